//! The Markdown people write into an incident, as safe HTML. Everything is sanitised, and
//! Markdown images are dropped: an image loads only from an entry's own http(s) image URL,
//! without a referrer, so an entry cannot make every reader's browser call a tracker. Pure;
//! the timeline store renders each entry once, when it is written.

use std::sync::LazyLock;

/// Markdown written by people or by Tocsin, as safe HTML: no images, no scripts, links that
/// open without telling the target where they came from.
pub fn markdown_html(md: &str) -> String {
    // Building the sanitiser's allow-lists costs more than cleaning a short entry, and a page
    // renders thousands of entries: build it once.
    static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
        let mut b = ammonia::Builder::default();
        b.rm_tags(["img"])
            .link_rel(Some("noopener noreferrer nofollow"));
        b
    });
    let options =
        pulldown_cmark::Options::ENABLE_TABLES | pulldown_cmark::Options::ENABLE_STRIKETHROUGH;
    let parser = pulldown_cmark::Parser::new_ext(md, options);
    let mut html = String::with_capacity(md.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, parser);
    CLEANER.clean(&html).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_sanitised_and_images_dropped() {
        let html = markdown_html(
            "**bold** <script>alert(1)</script> ![x](http://tracker.example/p.gif) \
             [a](javascript:alert(1)) [b](https://ok.example/)",
        );
        assert!(html.contains("<strong>bold</strong>"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(
            html.contains(r#"href="https://ok.example/" rel="noopener noreferrer nofollow""#),
            "{html}"
        );
    }
}
