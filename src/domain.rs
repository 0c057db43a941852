//! Domain rules every layer shares (the importer, the services, the GraphQL API), with no dependencies of their own.

/// The contract's slug: ASCII transliteration, lower-case, runs of anything else as one hyphen.
pub fn slugify(title: &str) -> String {
    let ascii = deunicode::deunicode(title).to_lowercase();
    let mut slug = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    slug
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn slugs_follow_the_contract() {
        assert_eq!(
            slugify("Behind-the-Scenes Production as Brand Proof"),
            "behind-the-scenes-production-as-brand-proof"
        );
        assert_eq!(slugify("Café Crème: Brûlée!"), "cafe-creme-brulee");
        assert_eq!(slugify("  --Hello,   World--  "), "hello-world");
        assert_eq!(slugify("Łódź Studio Day"), "lodz-studio-day");
        assert_eq!(slugify("東京 shoot"), "dong-jing-shoot");
        assert_eq!(slugify("!!!"), "");
    }
}
