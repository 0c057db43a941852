//! Gives every error async-graphql raises itself a stable `extensions.code`, decided by the stage that
//! raised it rather than by its wording: parse, validation (and the query limits), variable coercion,
//! argument coercion during execution. An error that reaches the HTTP layer without a code after
//! execution started is then genuinely unexpected, and is masked.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest, NextResolve,
    NextValidation, ResolveInfo,
};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationDefinition};
use async_graphql::registry::{MetaType, MetaTypeName, Registry};
use async_graphql::{
    ErrorExtensionValues, Name, Request, Response, ServerError, ServerResult, ValidationResult, Value, Variables,
};

use crate::config::QueryLimits;
use crate::error::code;

/// Set when a request got past parsing, validation and variable coercion (the HTTP layer reads it to
/// tell request errors, answered with 400, from field errors).
#[derive(Default)]
pub struct ExecutionStarted(pub AtomicBool);

pub(crate) struct RequestErrors {
    pub limits: QueryLimits,
}

impl ExtensionFactory for RequestErrors {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Stages { limits: self.limits, operation_name: Mutex::new(None) })
    }
}

/// One per request.
struct Stages {
    limits: QueryLimits,
    /// The operation the request selects, for variable coercion.
    operation_name: Mutex<Option<String>>,
}

fn set_code(error: &mut ServerError, value: &str) {
    let extensions = error.extensions.get_or_insert_with(ErrorExtensionValues::default);
    if extensions.get("code").is_none() {
        extensions.set("code", value);
    }
}

fn has_code(error: &ServerError) -> bool {
    error.extensions.as_ref().is_some_and(|e| e.get("code").is_some())
}

#[async_graphql::async_trait::async_trait]
impl Extension for Stages {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        *self.operation_name.lock().unwrap_or_else(|e| e.into_inner()) = request.operation_name.clone();
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await.map_err(|mut e| {
            set_code(&mut e, code::GRAPHQL_PARSE_FAILED);
            e
        })?;
        let name = self.operation_name.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(operation) = selected_operation(&document, name.as_deref()) {
            coerce_variables(&ctx.schema_env.registry, operation, variables)?;
        }
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let QueryLimits { max_depth, max_complexity } = self.limits;
        let result = next.run(ctx).await.map_err(|mut errors| {
            for error in errors.iter_mut().filter(|e| !has_code(e)) {
                // The schema's depth and complexity limits are the only validation errors with no location
                // in the query (every rule points at what it rejects), and async-graphql reports them first.
                if error.locations.is_empty() {
                    error.message = format!(
                        "{} The limits are a depth of {max_depth} and a complexity of {max_complexity}; ask for smaller pages or fewer fields.",
                        error.message
                    );
                    set_code(error, code::QUERY_TOO_COMPLEX);
                } else {
                    set_code(error, code::GRAPHQL_VALIDATION_FAILED);
                }
            }
            errors
        })?;
        // The batch's cost budget is charged here rather than by an extension of its own: every extension
        // adds a boxed future to each field an answer resolves.
        super::budget::charge(ctx, &result, max_complexity)?;
        Ok(result)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if let Some(flag) = ctx.data_opt::<Arc<ExecutionStarted>>() {
            flag.0.store(true, Ordering::Relaxed);
        }
        next.run(ctx, operation_name).await
    }

    /// async-graphql reports an argument that fails to coerce at the position of the argument's value,
    /// while a resolver's own error sits at the field: that position is how coercion errors are told apart.
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let field = info.field;
        super::budget::limited(ctx, info, next).await.map_err(|mut error| {
            if has_code(&error) {
                return error;
            }
            let argument = field.arguments.iter().find(|(_, value)| error.locations.contains(&value.pos));
            if let Some((name, _)) = argument {
                let name = name.node.as_str();
                error.message = format!("{name}: {}", error.message);
                let extensions = error.extensions.get_or_insert_with(ErrorExtensionValues::default);
                extensions.set("code", code::BAD_USER_INPUT);
                extensions.set("field", name);
            }
            error
        })
    }
}

fn selected_operation<'d>(document: &'d ExecutableDocument, name: Option<&str>) -> Option<&'d OperationDefinition> {
    match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => Some(&op.node),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| &op.node),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next().map(|op| &op.node),
        _ => None,
    }
}

/// Variable coercion, before execution as the GraphQL spec orders it: a missing required variable or a
/// value of the wrong type is a request error naming the variable.
fn coerce_variables(registry: &Registry, operation: &OperationDefinition, variables: &Variables) -> ServerResult<()> {
    for definition in &operation.variable_definitions {
        let definition = &definition.node;
        let name = definition.name.node.as_str();
        let ty = definition.var_type.node.to_string();
        let problem = match variables.get(&Name::new(name)) {
            None if definition.default_value.is_none() && !definition.var_type.node.nullable => {
                Some((String::new(), format!("is required ({ty}) but was not provided")))
            }
            None => None,
            Some(value) => invalid_value(registry, &ty, value),
        };
        if let Some((path, why)) = problem {
            let mut error = ServerError::new(format!("variable ${name}{path}: {why}"), Some(definition.name.pos));
            let extensions = error.extensions.get_or_insert_with(ErrorExtensionValues::default);
            extensions.set("code", code::BAD_USER_INPUT);
            extensions.set("variable", name);
            return Err(error);
        }
    }
    Ok(())
}

/// Where in `value` (".text", "[2]", "" for the value itself) and why it is not a valid input of type `ty`,
/// or `None` when it is (or the type is not known here: validation reports unknown types, and scalar
/// parsing during execution catches the rest).
fn invalid_value(registry: &Registry, ty: &str, value: &Value) -> Option<(String, String)> {
    let nested = |at: String, (path, why): (String, String)| (format!("{at}{path}"), why);
    match MetaTypeName::create(ty) {
        MetaTypeName::NonNull(inner) => match value {
            Value::Null => Some((String::new(), format!("must not be null ({ty})"))),
            _ => invalid_value(registry, inner, value),
        },
        MetaTypeName::List(inner) => match value {
            Value::List(items) => items.iter().enumerate().find_map(|(i, item)| {
                invalid_value(registry, inner, item).map(|problem| nested(format!("[{i}]"), problem))
            }),
            _ => invalid_value(registry, inner, value),
        },
        MetaTypeName::Named(_) if matches!(value, Value::Null) => None,
        MetaTypeName::Named(name) => {
            let found = || value.to_string().chars().take(80).collect::<String>();
            let why = match registry.types.get(name)? {
                MetaType::Scalar { is_valid: Some(is_valid), .. } if !is_valid(value) => {
                    format!("expected {name}, found {}", found())
                }
                MetaType::Enum { enum_values, .. } => match value {
                    Value::Enum(v) if enum_values.contains_key(v.as_str()) => return None,
                    Value::String(v) if enum_values.contains_key(v.as_str()) => return None,
                    _ => {
                        let allowed = enum_values.keys().map(String::as_str).collect::<Vec<_>>().join(", ");
                        format!("expected one of {name} ({allowed}), found {}", found())
                    }
                },
                MetaType::InputObject { input_fields, .. } => {
                    let Value::Object(fields) = value else {
                        return Some((
                            String::new(),
                            format!("expected {} input object, found {}", with_article(name), found()),
                        ));
                    };
                    if let Some(unknown) = fields.keys().find(|k| !input_fields.contains_key(k.as_str())) {
                        return Some((String::new(), format!("{name} has no field {:?}", unknown.as_str())));
                    }
                    return input_fields.values().find_map(|field| match fields.get(field.name.as_str()) {
                        Some(v) => invalid_value(registry, &field.ty, v)
                            .map(|problem| nested(format!(".{}", field.name), problem)),
                        None if field.default_value.is_none() && MetaTypeName::create(&field.ty).is_non_null() => {
                            Some((format!(".{}", field.name), format!("is required ({})", field.ty)))
                        }
                        None => None,
                    });
                }
                _ => return None,
            };
            Some((String::new(), why))
        }
    }
}

/// "an ArticleOrder", "a ProofRecordFilter".
fn with_article(name: &str) -> String {
    let vowel = name.chars().next().is_some_and(|c| "AEIOUaeiou".contains(c));
    format!("{} {name}", if vowel { "an" } else { "a" })
}
