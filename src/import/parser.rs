//! Plain text → [`ParsedPage`]. Pure: no I/O, every error carries the 1-based line it is about.

use crate::service::article::{QuestionInput, SectionInput};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedPage {
    pub title: String,
    pub slug: String,
    pub thesis: String,
    pub point: Option<String>,
    pub audience_summary: Option<String>,
    pub audience_roles: Vec<String>,
    pub reader_need: Option<String>,
    pub real_problem: Option<String>,
    pub record_matters: Option<String>,
    pub smarter_question: Option<String>,
    pub proves: Option<String>,
    pub sections: Vec<SectionInput>,
    pub questions: Vec<QuestionInput>,
    /// "review the paired Proof record" in the closing line.
    pub paired_proof_record: bool,
    /// "browse Proof" → `Some("Proof")`.
    pub collection: Option<String>,
    /// "read Website Direction" → `["Website Direction"]`.
    pub related_titles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

fn err<T>(line: usize, message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError { line, message: message.into() })
}

const MAX_HEADING_CHARS: usize = 80;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    Audience,
    RealProblem,
    SmarterQuestion,
    Proves,
    Questions,
}

fn known_heading(text: &str) -> Option<Known> {
    match text.trim().to_lowercase().as_str() {
        "who this helps" => Some(Known::Audience),
        "the real problem" => Some(Known::RealProblem),
        "the smarter question" => Some(Known::SmarterQuestion),
        "what this proves" => Some(Known::Proves),
        "questions this page should help you ask" => Some(Known::Questions),
        _ => None,
    }
}

/// A short line with no closing punctuation.
fn is_heading(line: &str) -> bool {
    let line = line.trim();
    !line.is_empty()
        && line.chars().count() <= MAX_HEADING_CHARS
        && !line.ends_with(['.', '?', '!', ':', ';', ',', '"', '\u{201d}'])
        && !starts_with_ignore_case(line, "next:")
}

/// The first sentence of `text` and the rest (a sentence ends at ". ", "? " or "! " at or after byte `from`,
/// so that a title such as "Title No. 0" is not taken for a sentence).
fn split_first_sentence(text: &str, from: usize) -> (String, Option<String>) {
    let bytes = text.as_bytes();
    for (i, b) in bytes.iter().enumerate().skip(from) {
        if matches!(b, b'.' | b'?' | b'!') && bytes.get(i + 1) == Some(&b' ') {
            let rest = text[i + 1..].trim();
            return (text[..=i].trim().to_string(), (!rest.is_empty()).then(|| rest.to_string()));
        }
    }
    (text.trim().to_string(), None)
}

/// Whether `text` starts with the ASCII `prefix`, ignoring ASCII case. Full Unicode lower-casing can change
/// byte lengths (`İ` becomes two characters), so offsets found in a lower-cased copy would not fit `text`.
fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// "This article is for brand leads, founders, production teams, and creators who need ..." → the four roles.
pub fn audience_roles(summary: &str) -> Vec<String> {
    // ASCII lower-casing keeps every byte offset, so the offsets found in `lower` fit `summary`.
    let lower = summary.to_ascii_lowercase();
    let Some(start) = lower.find(" for ").map(|i| i + 5) else {
        return Vec::new();
    };
    let tail = &summary[start..];
    let lower_tail = &lower[start..];
    let end = [" who ", " that ", " which ", " looking ", " trying ", "."]
        .iter()
        .filter_map(|stop| lower_tail.find(stop))
        .min()
        .unwrap_or(tail.len());
    tail[..end]
        .split(',')
        .flat_map(|part| part.split(" and "))
        .map(|part| part.trim().trim_start_matches("and ").trim_start_matches("or ").trim())
        .filter(|part| !part.is_empty())
        .map(str::to_string)
        .collect()
}

struct Block<'a> {
    heading: &'a str,
    heading_line: usize,
    paragraphs: Vec<(usize, &'a str)>,
}

fn parse_next_line(text: &str, page: &mut ParsedPage) {
    let rest = text.trim()["next:".len()..].trim().trim_end_matches('.');
    for clause in rest.split(',') {
        let clause = clause.trim();
        let clause = clause.strip_prefix("or ").or_else(|| clause.strip_prefix("and ")).unwrap_or(clause).trim();
        let lower = clause.to_ascii_lowercase();
        if lower.contains("paired") && lower.contains("record") {
            page.paired_proof_record = true;
        } else if let Some(name) = lower.strip_prefix("browse ").map(|_| clause["browse ".len()..].trim()) {
            if !name.is_empty() {
                page.collection = Some(name.to_string());
            }
        } else if lower.starts_with("read ") {
            page.related_titles.extend(
                clause["read ".len()..].split(" and ").map(str::trim).filter(|t| !t.is_empty()).map(str::to_string),
            );
        }
    }
}

fn joined(paragraphs: &[(usize, &str)]) -> String {
    paragraphs.iter().map(|(_, p)| p.trim()).collect::<Vec<_>>().join("\n\n")
}

/// Parses one page. Each non-empty line is a paragraph; a short line without closing punctuation is a heading.
pub fn parse_page(text: &str) -> Result<ParsedPage, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())).filter(|(_, l)| !l.is_empty()).peekable();
    let mut page = ParsedPage::default();

    let Some((first_no, first)) = lines.next() else {
        return err(1, "the page is empty; it must open with \"TITLE is DEFINITION. The point is ...\"");
    };
    let (opening_no, opening) = if let Some(title) = first.strip_prefix("Title:") {
        page.title = title.trim().to_string();
        match lines.next() {
            Some(next) => next,
            None => return err(first_no, "a Title: line must be followed by the opening line"),
        }
    } else {
        (first_no, first)
    };
    if page.title.is_empty() {
        match opening.find(" is ") {
            Some(at) if at > 0 => page.title = opening[..at].trim().to_string(),
            _ => {
                return err(
                    opening_no,
                    "the opening line must read \"TITLE is DEFINITION. The point is ...\" (or start the page with \"Title: ...\")",
                );
            }
        }
    }
    // The thesis is the first sentence, looked for after the title: a title may hold ". " ("Title No. 0").
    let after_title = if opening.starts_with(page.title.as_str()) { page.title.len() } else { 0 };
    let (thesis, point) = split_first_sentence(opening, after_title);
    page.thesis = thesis;
    page.point = point;
    page.slug = crate::domain::slugify(&page.title);
    if page.slug.is_empty() {
        return err(opening_no, format!("the title {:?} has no letters or digits to make a slug from", page.title));
    }

    let mut blocks: Vec<Block> = Vec::new();
    let mut next_line: Option<(usize, &str)> = None;
    for (no, line) in lines {
        if let Some((next_no, _)) = next_line {
            return err(no, format!("text after the closing \"Next:\" line (line {next_no})"));
        }
        if starts_with_ignore_case(line, "next:") {
            next_line = Some((no, line));
        } else if is_heading(line) {
            blocks.push(Block { heading: line, heading_line: no, paragraphs: Vec::new() });
        } else if let Some(block) = blocks.last_mut() {
            block.paragraphs.push((no, line));
        } else {
            return err(
                no,
                "text before the first heading; after the opening line every paragraph belongs under a heading",
            );
        }
    }
    if let Some((_, line)) = next_line {
        parse_next_line(line, &mut page);
    }

    let mut seen: Vec<Known> = Vec::new();
    for block in blocks {
        let known = known_heading(block.heading);
        if block.paragraphs.is_empty() {
            return err(block.heading_line, format!("the heading {:?} has no text under it", block.heading));
        }
        if let Some(kind) = known {
            if seen.contains(&kind) {
                return err(block.heading_line, format!("the heading {:?} appears twice", block.heading));
            }
            seen.push(kind);
        }
        match known {
            Some(Known::Audience) => {
                let (summary, rest) = split_first_sentence(block.paragraphs[0].1, 0);
                page.audience_roles = audience_roles(&summary);
                page.audience_summary = Some(summary);
                let mut need = rest.unwrap_or_default();
                let more = joined(&block.paragraphs[1..]);
                if !need.is_empty() && !more.is_empty() {
                    need.push_str("\n\n");
                }
                need.push_str(&more);
                page.reader_need = (!need.is_empty()).then_some(need);
            }
            Some(Known::RealProblem) => {
                let split = block
                    .paragraphs
                    .iter()
                    .position(|(_, p)| starts_with_ignore_case(p, "the production record matters"));
                match split {
                    Some(0) => {
                        return err(
                            block.paragraphs[0].0,
                            "\"The real problem\" must state the problem before \"The production record matters\"",
                        );
                    }
                    Some(at) => {
                        page.real_problem = Some(joined(&block.paragraphs[..at]));
                        page.record_matters = Some(joined(&block.paragraphs[at..]));
                    }
                    None => page.real_problem = Some(joined(&block.paragraphs)),
                }
            }
            Some(Known::SmarterQuestion) => page.smarter_question = Some(joined(&block.paragraphs)),
            Some(Known::Proves) => page.proves = Some(joined(&block.paragraphs)),
            Some(Known::Questions) => page.questions = parse_questions(&block)?,
            None => {
                page.sections.push(SectionInput { heading: block.heading.to_string(), body: joined(&block.paragraphs) })
            }
        }
    }
    Ok(page)
}

fn parse_questions(block: &Block) -> Result<Vec<QuestionInput>, ParseError> {
    let mut questions: Vec<(usize, QuestionInput)> = Vec::new();
    for &(no, line) in &block.paragraphs {
        if line.ends_with('?') {
            if let Some((q_no, q)) = questions.last()
                && q.answer.is_empty()
            {
                return err(*q_no, format!("the question {:?} has no answer", q.question));
            }
            questions.push((no, QuestionInput { question: line.to_string(), answer: String::new() }));
        } else if let Some((_, q)) = questions.last_mut() {
            if !q.answer.is_empty() {
                q.answer.push_str("\n\n");
            }
            q.answer.push_str(line);
        } else {
            return err(no, "the questions block must start with a question (a line ending in \"?\")");
        }
    }
    if let Some((q_no, q)) = questions.last()
        && q.answer.is_empty()
    {
        return err(*q_no, format!("the question {:?} has no answer", q.question));
    }
    Ok(questions.into_iter().map(|(_, q)| q).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = include_str!("../../demo/behind-the-scenes-production-as-brand-proof.txt");

    #[test]
    fn parses_the_original_page() {
        let page = parse_page(SEED).expect("the original page parses");
        assert_eq!(page.title, "Behind-the-Scenes Production as Brand Proof");
        assert_eq!(page.slug, "behind-the-scenes-production-as-brand-proof");
        assert_eq!(
            page.thesis,
            "Behind-the-Scenes Production as Brand Proof is behind-the-scenes production systems proof."
        );
        assert!(page.point.as_deref().unwrap().starts_with("The point is not to preserve"));
        assert_eq!(page.audience_roles, ["brand leads", "founders", "production teams", "creators"]);
        assert!(page.real_problem.as_deref().unwrap().starts_with("Behind-the-scenes content gets treated as filler"));
        assert!(page.record_matters.as_deref().unwrap().starts_with("The production record matters"));
        assert_eq!(page.sections.len(), 2);
        assert_eq!(page.sections[1].body.split("\n\n").count(), 2);
        assert_eq!(page.questions.len(), 3);
        assert!(page.paired_proof_record);
        assert_eq!(page.collection.as_deref(), Some("Proof"));
        assert_eq!(page.related_titles, ["Website Direction"]);
    }

    #[test]
    fn a_title_line_wins_over_the_opening_sentence() {
        let page = parse_page("Title: Café Notes\nCafe notes is a page. The point is titles.\n").unwrap();
        assert_eq!(page.title, "Café Notes");
        assert_eq!(page.slug, "cafe-notes");
        assert_eq!(page.thesis, "Cafe notes is a page.");
        assert_eq!(page.point.as_deref(), Some("The point is titles."));
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            ("", 1, "empty"),
            ("\n\nNo definition here.\n", 3, "TITLE is DEFINITION"),
            ("A is b.\nStray paragraph before any heading.\n", 2, "before the first heading"),
            ("A is b.\nThe smarter question\n", 2, "no text under it"),
            ("A is b.\nWhat this proves\nIt proves.\nWhat this proves\nAgain.\n", 4, "appears twice"),
            ("A is b.\nQuestions this page should help you ask\nAn answer first.\n", 3, "must start with a question"),
            ("A is b.\nQuestions this page should help you ask\nOne?\nTwo?\nAnswer.\n", 3, "no answer"),
            ("A is b.\nThe real problem\nThe production record matters because.\n", 3, "before"),
            ("A is b.\nNext: browse Proof.\nMore text.\n", 3, "after the closing"),
            ("!!! is b.\n", 1, "no letters or digits"),
        ];
        for (text, line, needle) in cases {
            let err = parse_page(text).expect_err(text);
            assert_eq!(err.line, line, "{text:?}: {err}");
            assert!(err.message.contains(needle), "{text:?}: {err}");
        }
    }

    #[test]
    fn roles_come_from_the_audience_sentence() {
        assert_eq!(audience_roles("This article is for founders and designers who ship."), ["founders", "designers"]);
        assert_eq!(audience_roles("This is for editors."), ["editors"]);
        assert!(audience_roles("Everyone.").is_empty());
    }

    #[test]
    fn roles_survive_characters_whose_lower_case_is_longer() {
        // "İ" lower-cases to two characters: offsets from a lower-cased copy used to panic or cut the roles.
        let many = format!("{} for x", "İ".repeat(40));
        assert_eq!(audience_roles(&many), ["x"]);
        assert_eq!(audience_roles("İ This article is for founders and editors."), ["founders", "editors"]);
        let page = parse_page(&format!("A is b.\nWho this helps\n{many}.\n")).expect("parses");
        assert_eq!(page.audience_roles, ["x"]);
    }

    #[test]
    fn a_title_with_a_full_stop_is_not_the_thesis() {
        let page = parse_page("Title No. 0 is a numbered page. The point is numbers.\n").unwrap();
        assert_eq!(page.title, "Title No. 0");
        assert_eq!(page.thesis, "Title No. 0 is a numbered page.");
        assert_eq!(page.point.as_deref(), Some("The point is numbers."));
        let page = parse_page("Title: Title No. 0\nTitle No. 0 is a page. The point is titles.\n").unwrap();
        assert_eq!(page.thesis, "Title No. 0 is a page.");
    }

    /// Random pages built from awkward pieces (characters whose case mapping changes their length,
    /// multi-byte punctuation, the format's own keywords) never panic the parser.
    #[test]
    fn random_unicode_pages_never_panic() {
        const PIECES: &[&str] = &[
            "İ",
            "ß",
            "K",
            "ǅ",
            "Σ",
            "ﬃ",
            "é",
            "🎬",
            "\u{feff}",
            "\u{301}",
            "\u{201d}",
            " ",
            "  ",
            "\n",
            "\n\n",
            "\r\n",
            ".",
            ". ",
            "? ",
            "! ",
            ",",
            ":",
            " is ",
            " for ",
            " who ",
            " and ",
            "or ",
            "Next:",
            "NEXT: ",
            "next:",
            "Title:",
            "browse ",
            "read ",
            "paired record",
            "Who this helps\n",
            "The real problem\n",
            "The production record matters",
            "Questions this page should help you ask\n",
            "What this proves\n",
            "Why?\n",
            "a",
            "Z",
            "0",
            "-",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            // xorshift64: deterministic, so a failure reproduces.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let len = (next() % 40) as usize;
            let text: String = (0..len).map(|_| PIECES[(next() % PIECES.len() as u64) as usize]).collect();
            let _ = parse_page(&text);
            let _ = audience_roles(&text);
        }
    }

    #[test]
    fn next_line_names_record_collection_and_related_pages() {
        let page = parse_page("A is b.\nNext: read One and Two, browse Case Files.\n").unwrap();
        assert!(!page.paired_proof_record);
        assert_eq!(page.collection.as_deref(), Some("Case Files"));
        assert_eq!(page.related_titles, ["One", "Two"]);
    }
}
