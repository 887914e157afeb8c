//! Fuzzes the config-as-code YAML parser and validator (`tocsin validate`/`apply`): any
//! text, no panic, and every error it reports can be printed with its location.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tocsin::catalog::Catalog;
use tocsin::config::{Source, load};

fuzz_target!(|data: &[u8]| {
    // Files are read as UTF-8 before parsing; non-UTF-8 never reaches the parser.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let source = Source {
        path: "fuzz.yaml".into(),
        text: text.into(),
    };
    if let Err(errors) = load(vec![source], &Catalog::default()) {
        for e in errors {
            let _ = e.to_string();
        }
    }
});
