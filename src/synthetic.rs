//! A deterministic synthetic data set for benchmarks and load tests (`backlot generate`): articles shaped
//! like the original page, each with a paired proof record, observations, BTS frames and snippets.

use entity::{AssetKind, ContentStatus, ObservationKind as K, ReleaseStatus as R, Stage, proof_snippet};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Set};

use crate::service::article::{self as articles, ArticleDraft, QuestionInput, SectionInput};
use crate::service::proof_record::{self as proof_records, AssetInput, ObservationInput, ProofRecordDraft};
use crate::service::{Result, catalog, snippet, staged, transaction};

/// A small xorshift generator: the same seed gives the same data set on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const SUBJECTS: [&str; 12] = [
    "Roastery",
    "Studio",
    "Workshop",
    "Kitchen",
    "Warehouse",
    "Atelier",
    "Brewery",
    "Bakery",
    "Garage",
    "Greenhouse",
    "Print Shop",
    "Boatyard",
];
const WORK: [&str; 10] = [
    "Launch Film",
    "Product Stills",
    "Campaign Shoot",
    "Brand Portraits",
    "Process Reel",
    "Hiring Video",
    "Catalogue Day",
    "Founder Interview",
    "Event Recap",
    "Packaging Shoot",
];
/// The most common words of the vocabulary, most common first. "frame" leads so that the prefix "fra" matches
/// nearly every document (tests/stall.rs sends it as the heaviest text filter).
const COMMON_WORDS: [&str; 16] = [
    "frame",
    "lighting",
    "schedule",
    "crew",
    "decision",
    "client",
    "constraint",
    "release",
    "budget",
    "rhythm",
    "location",
    "equipment",
    "review",
    "edit",
    "brief",
    "proof",
];

/// Distinct words of the synthetic text: a few thousand, as in real editorial copy.
pub const VOCABULARY_SIZE: usize = 4_000;

/// The synthetic text's words, most common first, and the cumulative Zipf weights (rank^-1) that draw them:
/// the first words are in nearly every document, the last in a handful, as in real text.
struct Vocabulary {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

fn vocabulary() -> &'static Vocabulary {
    static VOCABULARY: std::sync::LazyLock<Vocabulary> = std::sync::LazyLock::new(|| {
        let words = pseudo_words();
        let mut total = 0.0;
        let cumulative = (1..=words.len())
            .map(|rank| {
                total += 1.0 / rank as f64;
                total
            })
            .collect();
        Vocabulary { words, cumulative }
    });
    &VOCABULARY
}

/// The vocabulary in rank order (most common first): what `backlot generate --vocabulary-out` writes and
/// the benchmark draws its search terms from.
pub fn vocabulary_words() -> &'static [String] {
    &vocabulary().words
}

/// [`COMMON_WORDS`], then pronounceable pseudo-words (two or three consonant-vowel syllables and a final
/// consonant, so none is an English stop word that PostgreSQL's parser would drop), from a fixed seed: the
/// vocabulary is the same for every data set; the seed varies only the text drawn from it.
fn pseudo_words() -> Vec<String> {
    const ONSETS: [&str; 22] = [
        "b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "gr", "kl", "pl", "st", "tr",
        "sh",
    ];
    const VOWELS: [&str; 7] = ["a", "e", "i", "o", "u", "ai", "ou"];
    const FINALS: [&str; 9] = ["n", "r", "l", "m", "k", "t", "d", "x", "v"];
    let mut words: Vec<String> = COMMON_WORDS.iter().map(|w| w.to_string()).collect();
    let mut seen: std::collections::HashSet<String> = words.iter().cloned().collect();
    let mut rng = Rng(0x005E_ED0F_7E77);
    while words.len() < VOCABULARY_SIZE {
        let mut word = String::new();
        for _ in 0..2 + rng.below(2) {
            word.push_str(rng.pick(&ONSETS));
            word.push_str(rng.pick(&VOWELS));
        }
        word.push_str(rng.pick(&FINALS));
        if seen.insert(word.clone()) {
            words.push(word);
        }
    }
    // Shorter words are the commoner ones, as in real text (and the text stays about as long as before).
    words[COMMON_WORDS.len()..].sort_by_key(String::len);
    words
}

impl Rng {
    /// A word of the vocabulary, the word of rank r drawn with probability proportional to 1/r.
    fn word(&mut self) -> &'static str {
        let vocabulary = vocabulary();
        let total = vocabulary.cumulative.last().copied().unwrap_or(0.0);
        // 53 random bits: a uniform float in [0, total).
        let point = (self.next() >> 11) as f64 / (1u64 << 53) as f64 * total;
        let rank = vocabulary.cumulative.partition_point(|&c| c <= point).min(vocabulary.words.len() - 1);
        &vocabulary.words[rank]
    }
}
const KINDS: [K; 8] =
    [K::People, K::Equipment, K::Constraint, K::Decision, K::Environment, K::Rhythm, K::Collaboration, K::Atmosphere];
const CHANNELS: [(&str, usize); 6] = [
    ("case-studies", 400),
    ("social-posts", 200),
    ("sales-decks", 300),
    ("hiring-materials", 300),
    ("launch-recaps", 400),
    ("proof-pages", 400),
];

fn sentence(rng: &mut Rng, words: usize) -> String {
    let mut out: Vec<&str> = (0..words).map(|_| rng.word()).collect();
    out.push("matters");
    let mut s = out.join(" ");
    if let Some(first) = s.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    s.push('.');
    s
}

/// The article and proof record of synthetic page `n`.
fn page(rng: &mut Rng, n: usize) -> (ArticleDraft, ProofRecordDraft) {
    let title = format!("{} {} No. {n}", rng.pick(&SUBJECTS), rng.pick(&WORK));
    let slug = crate::domain::slugify(&title);
    let sections = (0..2 + rng.below(3))
        .map(|i| SectionInput {
            heading: format!("Part {} of the {}", i + 1, rng.word()),
            body: format!("{} {}\n\n{}", sentence(rng, 12), sentence(rng, 10), sentence(rng, 14)),
        })
        .collect();
    let questions = (0..3)
        .map(|_| QuestionInput {
            question: format!("What does the {} show about the {}?", rng.word(), rng.word()),
            answer: sentence(rng, 16),
        })
        .collect();
    let article = ArticleDraft {
        slug: slug.clone(),
        title: title.clone(),
        thesis: Some(format!("{title} is a production record used as proof.")),
        point: Some(sentence(rng, 20)),
        audience_summary: Some("This article is for brand leads, founders, and production teams.".into()),
        audience_roles: vec!["brand leads".into(), "founders".into(), "production teams".into()],
        reader_need: Some(sentence(rng, 10)),
        real_problem: Some(sentence(rng, 14)),
        record_matters: Some(format!("The production record matters because {}", sentence(rng, 12).to_lowercase())),
        smarter_question: Some(format!("What should the viewer understand about the {}?", rng.word())),
        proves: Some(sentence(rng, 12)),
        sections,
        questions,
        related_titles: vec![],
        collection_id: None,
        proof_record_document_id: None,
    };
    let releases = [R::Cleared, R::Cleared, R::NotRequired, R::Cleared, R::Pending, R::Denied];
    let record = ProofRecordDraft {
        slug,
        title,
        client: Some(format!("Client {} (synthetic)", rng.below(500))),
        deliverable: Some(format!("A {} for a {}", rng.pick(&WORK).to_lowercase(), rng.pick(&SUBJECTS).to_lowercase())),
        problem_solved: Some(sentence(rng, 12)),
        summary: Some(sentence(rng, 16)),
        captured_on: chrono::NaiveDate::from_ymd_opt(2026, 1 + (n % 12) as u32, 1 + (n % 28) as u32),
        location: Some(rng.pick(&SUBJECTS).to_string()),
        observations: KINDS
            .iter()
            .map(|&kind| ObservationInput { kind, title: sentence(rng, 4), detail: Some(sentence(rng, 12)) })
            .collect(),
        assets: releases
            .iter()
            .enumerate()
            .map(|(i, &release)| AssetInput {
                url: format!("https://synthetic.backlot.invalid/{n}/{i}.jpg"),
                kind: if i == 5 { AssetKind::Video } else { AssetKind::Image },
                alt: Some(sentence(rng, 6)),
                caption: Some(sentence(rng, 8)),
                credit: Some("Synthetic Studio".into()),
                width: Some(3000),
                height: Some(2000),
                shows: vec![KINDS[i % 8], KINDS[(i + 3) % 8]],
                release,
                captured_at: None,
                release_expires_at: None,
                release_channels: Vec::new(),
                release_reason: None,
            })
            .collect(),
        channels: CHANNELS.iter().map(|(slug, _)| slug.to_string()).collect(),
    };
    (article, record)
}

async fn write_page(
    db: &impl ConnectionTrait,
    rng: &mut Rng,
    n: usize,
    collection_id: i32,
    channel_ids: &[i32],
    draft_share: u64,
) -> Result<()> {
    // Straight to the stage writers: synthetic data needs no revisions or audit trail.
    let (mut article, record) = page(rng, n);
    let record = proof_records::write(db, None, record, 1).await?;
    article.collection_id = Some(collection_id);
    article.proof_record_document_id = Some(record.document_id.clone());
    let article = articles::write(db, None, article, 1).await?;
    let is_draft = rng.below(100) < draft_share;
    let stages: &[(Stage, ContentStatus)] = if is_draft {
        &[(Stage::Draft, ContentStatus::Draft)]
    } else {
        &[(Stage::Draft, ContentStatus::Published), (Stage::Published, ContentStatus::Published)]
    };
    let now = crate::service::now();
    let mut snippets = Vec::new();
    for ((slug, limit), &channel_id) in CHANNELS.iter().zip(channel_ids) {
        // Hiring materials require a credit line (see the reuse channel's `requiresCredit`).
        let credit = (*slug == "hiring-materials").then(|| "Generated crew (synthetic)".to_string());
        let mut body = sentence(rng, 10);
        body.truncate(*limit);
        let document_id = crate::service::new_document_id();
        for &(stage, status) in stages {
            snippets.push(proof_snippet::ActiveModel {
                document_id: Set(document_id.clone()),
                stage: Set(stage),
                status: Set(status),
                proof_record_document_id: Set(record.document_id.clone()),
                article_document_id: Set(Some(article.document_id.clone())),
                channel_id: Set(channel_id),
                char_count: Set(snippet::char_count(&body)),
                body: Set(body.clone()),
                published_at: Set((status == ContentStatus::Published).then_some(now)),
                version: Set(1),
                publish_at: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                credit: Set(credit.clone()),
                ..Default::default()
            });
        }
    }
    proof_snippet::Entity::insert_many(snippets).exec(db).await?;
    if !is_draft {
        staged::copy_to_published::<staged::ProofRecords>(db, &record.document_id).await?;
        staged::copy_to_published::<staged::Articles>(db, &article.document_id).await?;
    }
    Ok(())
}

/// Adds `count` synthetic pages (numbered from `start`), `draft_percent` % of them left as drafts, in
/// transactions of `batch` pages. Calls `progress` after each batch with the pages written so far.
pub async fn generate(
    db: &DatabaseConnection,
    start: usize,
    count: usize,
    seed: u64,
    draft_percent: u64,
    mut progress: impl FnMut(usize),
) -> Result<()> {
    let collection_id = catalog::ensure_collection(db, "Synthetic").await?;
    let slugs: Vec<String> = CHANNELS.iter().map(|(slug, _)| slug.to_string()).collect();
    let channel_ids = catalog::channel_ids(db, &slugs).await?;
    let batch = 250;
    let mut done = 0;
    while done < count {
        let size = batch.min(count - done);
        let first = start + done;
        let channel_ids = channel_ids.clone();
        transaction(db, move |txn| {
            Box::pin(async move {
                for n in first..first + size {
                    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (n as u64 + 1));
                    rng.next();
                    write_page(txn, &mut rng, n, collection_id, &channel_ids, draft_percent).await?;
                }
                Ok(())
            })
        })
        .await?;
        done += size;
        progress(done);
    }
    Ok(())
}

/// A synthetic page in the plain-text import format (for import throughput runs).
pub fn page_text(seed: u64, n: usize) -> String {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (n as u64 + 1));
    rng.next();
    let (a, _) = page(&mut rng, n);
    let mut text = format!("Title: {}\n{} {}\n", a.title, a.thesis.unwrap_or_default(), a.point.unwrap_or_default());
    text.push_str(&format!("Who this helps\n{}\n", a.audience_summary.unwrap_or_default()));
    text.push_str(&format!(
        "The real problem\n{}\n{}\n",
        a.real_problem.unwrap_or_default(),
        a.record_matters.unwrap_or_default()
    ));
    text.push_str(&format!("The smarter question\n{}\n", a.smarter_question.unwrap_or_default()));
    for s in a.sections {
        text.push_str(&format!("{}\n{}\n", s.heading, s.body.replace("\n\n", "\n")));
    }
    text.push_str(&format!("What this proves\n{}\n", a.proves.unwrap_or_default()));
    text.push_str("Questions this page should help you ask\n");
    for q in a.questions {
        text.push_str(&format!("{}\n{}\n", q.question, q.answer));
    }
    text.push_str("Next: review the paired Proof record, browse Synthetic.\n");
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn pages_are_deterministic_and_parse() {
        let a = super::page_text(7, 42);
        assert_eq!(a, super::page_text(7, 42));
        assert_ne!(a, super::page_text(7, 43));
        let parsed = crate::import::parse_page(&a).expect("synthetic pages use the import format");
        assert_eq!(parsed.questions.len(), 3);
        assert!(parsed.paired_proof_record);
    }

    #[test]
    fn the_vocabulary_has_thousands_of_distinct_fixed_words() {
        let words = super::vocabulary_words();
        assert_eq!(words.len(), super::VOCABULARY_SIZE);
        let distinct: std::collections::HashSet<&String> = words.iter().collect();
        assert_eq!(distinct.len(), words.len(), "every word is distinct");
        assert_eq!(words[0], "frame", "tests/stall.rs relies on \"fra\" matching nearly every document");
        assert!(words.iter().all(|w| w.len() >= 4 && w.chars().all(|c| c.is_ascii_lowercase())), "{words:?}");
        // Fixed, whatever the seed: the benchmark reads it to pick its search terms.
        assert_eq!(super::pseudo_words(), *words);
    }

    /// Word frequencies follow rank^-1: the commonest words are in nearly every page, a mid-rank word in some,
    /// the rare ones in few, and the text uses most of the vocabulary.
    #[test]
    fn words_are_drawn_with_a_zipf_distribution() {
        let pages = 2_000;
        let words = super::vocabulary_words();
        let rank: std::collections::HashMap<&str, usize> =
            words.iter().enumerate().map(|(i, w)| (w.as_str(), i)).collect();
        let mut tokens = vec![0usize; words.len()];
        let mut pages_with = vec![0usize; words.len()];
        for n in 0..pages {
            let text = super::page_text(3, n);
            let mut seen = std::collections::HashSet::new();
            for word in text.split(|c: char| !c.is_ascii_alphabetic()).filter_map(|w| rank.get(w)) {
                tokens[*word] += 1;
                seen.insert(*word);
            }
            for word in seen {
                pages_with[word] += 1;
            }
        }
        let share = |r: usize| pages_with[r] as f64 / pages as f64;
        assert!(share(0) > 0.99, "rank 1 in {:.3} of pages", share(0));
        assert!((0.2..0.9).contains(&share(49)), "rank 50 in {:.3} of pages", share(49));
        assert!((0.02..0.3).contains(&share(499)), "rank 500 in {:.3} of pages", share(499));
        let rare = pages_with[2_000..].iter().sum::<usize>() as f64 / (pages * (words.len() - 2_000)) as f64;
        assert!(rare < 0.03, "a word of rank 2,000+ in {rare:.3} of pages on average");
        // rank^-1: the 1st word about 10 times as frequent as the 10th, 100 times the 100th.
        let ratio = |r: usize| tokens[0] as f64 / tokens[r - 1] as f64;
        assert!((7.0..14.0).contains(&ratio(10)), "1st/10th {:.1}", ratio(10));
        assert!((60.0..160.0).contains(&ratio(100)), "1st/100th {:.1}", ratio(100));
        let used = tokens.iter().filter(|&&t| t > 0).count();
        assert!(used > words.len() * 3 / 4, "only {used} distinct words used");
    }
}
