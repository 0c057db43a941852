//! Puts each object of an answer in the order its fields were asked for.
//!
//! async-graphql resolves the fields of a query concurrently and inserts each result as it completes, so
//! `{ snippets … assets … }` sometimes came back assets first. The GraphQL spec asks for the requested order,
//! frontends' snapshot tests rely on it, and a stable order keeps cached bodies and ETags stable.

use async_graphql::Name;
use async_graphql::Positioned;
use async_graphql::Value;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
};
use std::collections::HashMap;

/// Reorders `data` by the selection sets of the operation `operation_name` selects in `document`.
pub fn in_query_order(data: &mut Value, document: &ExecutableDocument, operation_name: Option<&str>) {
    let Some(selection) = operation_selection(document, operation_name) else {
        return;
    };
    reorder(data, &[selection], &document.fragments);
}

fn operation_selection<'d>(document: &'d ExecutableDocument, name: Option<&str>) -> Option<&'d SelectionSet> {
    match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => Some(&op.node.selection_set.node),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| &op.node.selection_set.node),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| &op.node.selection_set.node)
        }
        _ => None,
    }
}

type Fragments = HashMap<Name, Positioned<FragmentDefinition>>;

type Order<'d> = Vec<(Name, Vec<&'d SelectionSet>)>;

fn reorder(value: &mut Value, sets: &[&SelectionSet], fragments: &Fragments) {
    match value {
        // The items of a list share one selection: its order is worked out once for all of them.
        Value::List(items) => {
            let mut order = None;
            for item in items {
                match item {
                    Value::Object(_) => {
                        let order = order.get_or_insert_with(|| order_of(sets, fragments));
                        reorder_object(item, order, fragments);
                    }
                    _ => reorder(item, sets, fragments),
                }
            }
        }
        Value::Object(_) => reorder_object(value, &order_of(sets, fragments), fragments),
        _ => {}
    }
}

fn order_of<'d>(sets: &[&'d SelectionSet], fragments: &'d Fragments) -> Order<'d> {
    let mut order = Vec::new();
    collect(sets, fragments, &mut order, 0);
    order
}

fn reorder_object(value: &mut Value, order: &Order<'_>, fragments: &Fragments) {
    let Value::Object(map) = value else { return };
    // Usually the answer is already in order: then only the children need a look, and nothing moves.
    if map.len() == order.len() && map.keys().zip(order).all(|(key, (wanted, _))| key == wanted) {
        for ((_, children), child) in order.iter().zip(map.values_mut()) {
            reorder(child, children, fragments);
        }
        return;
    }
    let mut unordered = std::mem::take(map);
    for (key, children) in order {
        if let Some(mut child) = unordered.shift_remove(key) {
            reorder(&mut child, children, fragments);
            map.insert(key.clone(), child);
        }
    }
    // Anything the selection does not name (none expected) keeps its place at the end.
    map.extend(unordered);
}

/// The response keys of `sets` in document order, each with the sub-selections asked under it (a key may
/// be selected several times, through fragments, and its sub-selections merge).
fn collect<'d>(
    sets: &[&'d SelectionSet],
    fragments: &'d Fragments,
    order: &mut Vec<(Name, Vec<&'d SelectionSet>)>,
    depth: usize,
) {
    // Validation already refused fragment cycles; the bound only guards against surprises.
    if depth > 64 {
        return;
    }
    for set in sets {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let key = field.node.response_key().node.clone();
                    let children = &field.node.selection_set.node;
                    match order.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, sets)) => sets.push(children),
                        None => order.push((key, vec![children])),
                    }
                }
                Selection::InlineFragment(inline) => {
                    collect(&[&inline.node.selection_set.node], fragments, order, depth + 1)
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = fragments.get(&spread.node.fragment_name.node) {
                        collect(&[&fragment.node.selection_set.node], fragments, order, depth + 1);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(pairs: &[(&str, Value)]) -> Value {
        Value::Object(pairs.iter().map(|(k, v)| (Name::new(*k), v.clone())).collect())
    }

    fn keys(value: &Value) -> Vec<String> {
        match value {
            Value::Object(map) => map.keys().map(|k| k.to_string()).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn objects_follow_the_selection_through_aliases_lists_and_fragments() {
        let query = "query Page { b: article { z ...F } a: articles { nodes { y x } } } fragment F on Article { y ... on Article { x } }";
        let article = object(&[("x", Value::Null), ("y", Value::Null), ("z", Value::Null)]);
        let node = object(&[("x", Value::Null), ("y", Value::Null)]);
        let nodes = object(&[("nodes", Value::List(vec![node.clone(), node]))]);
        let mut data = object(&[("a", nodes), ("b", article)]);
        let document = async_graphql::parser::parse_query(query).unwrap();
        in_query_order(&mut data, &document, Some("Page"));
        assert_eq!(keys(&data), ["b", "a"]);
        let Value::Object(map) = &data else { unreachable!() };
        assert_eq!(keys(&map["b"]), ["z", "y", "x"]);
        let Value::Object(list) = &map["a"] else { unreachable!() };
        let Value::List(items) = &list["nodes"] else { unreachable!() };
        assert!(items.iter().all(|item| keys(item) == ["y", "x"]));
    }
}
