//! Every text the window shows has a Bahasa Indonesia translation with the
//! same placeholders. Texts are written as `t("English")` (or marked with
//! `N_("English")` where defined, or given to `plural(n, "noun", "nouns")`);
//! the translations are in `ui/locales/id*.js` (one catalog per area of the
//! window, each text in exactly one).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn ui_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "locales") {
                ui_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "js") {
            out.push(path);
        }
    }
}

/// The JS string literal starting at `s` (after its opening quote), unescaped.
fn literal(s: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &s[i + 1..])),
            '\\' => {
                let (_, escaped) = chars.next()?;
                out.push(match escaped {
                    'n' => '\n',
                    other => other,
                });
            }
            c => out.push(c),
        }
    }
    None
}

/// The texts marked for translation in one source file.
fn keys_in(source: &str) -> Vec<String> {
    let mut keys = Vec::new();
    for marker in ["t(", "N_("] {
        let mut rest = source;
        while let Some(at) = rest.find(marker) {
            let before = rest[..at].chars().last();
            rest = &rest[at + marker.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
                continue; // another function whose name ends in t
            }
            // The formatter may put the text on the next line: `t(\n  "...")`.
            let Some(text) = rest.trim_start().strip_prefix('"') else {
                continue;
            };
            if let Some((key, after)) = literal(text) {
                keys.push(key);
                rest = after;
            }
        }
    }
    // plural(n, "noun") and plural(n, "noun", "nouns")
    let mut rest = source;
    while let Some(at) = rest.find("plural(") {
        rest = &rest[at + "plural(".len()..];
        let Some(comma) = rest.find(", \"") else {
            break;
        };
        if rest[..comma].contains(')') || rest[..comma].contains('\n') {
            continue;
        }
        let Some((noun, after)) = literal(&rest[comma + 3..]) else {
            continue;
        };
        let nouns = after
            .strip_prefix(", \"")
            .and_then(literal)
            .map_or_else(|| format!("{noun}s"), |(n, _)| n);
        keys.push(noun);
        keys.push(nouns);
    }
    keys
}

/// The translations: `export default { "English": "Indonesia", ... };`
fn catalog(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let code: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let json = code
        .trim()
        .trim_start_matches("export default")
        .trim()
        .trim_end_matches(';');
    serde_json::from_str(json)
        .unwrap_or_else(|e| panic!("{} is not a JSON object: {e}", path.display()))
}

/// Every `id*.js` catalog merged; a text translated in two of them fails.
fn catalogs(dir: &Path) -> BTreeMap<String, String> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("id") && n.ends_with(".js"))
                })
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    assert!(!paths.is_empty(), "no catalog in {}", dir.display());
    let mut all = BTreeMap::new();
    for path in paths {
        for (key, value) in catalog(&path) {
            assert!(
                all.insert(key.clone(), value).is_none(),
                "{key:?} is translated twice (again in {})",
                path.display()
            );
        }
    }
    all
}

fn placeholders(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        if let Some(close) = rest.find('}') {
            let name = &rest[..close];
            if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                found.insert(name.to_owned());
            }
            rest = &rest[close + 1..];
        }
    }
    found
}

#[test]
fn every_text_shown_has_an_indonesian_translation_with_the_same_placeholders() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
    let mut files = Vec::new();
    ui_files(&root, &mut files);
    assert!(
        files.len() > 5,
        "the UI sources were not found in {}",
        root.display()
    );
    let id = catalogs(&root.join("locales"));
    let mut missing = BTreeSet::new();
    let mut used = BTreeSet::new();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap_or_default();
        for key in keys_in(&source) {
            match id.get(&key) {
                None => {
                    missing.insert(key.clone());
                }
                Some(translation) => assert_eq!(
                    placeholders(&key),
                    placeholders(translation),
                    "the placeholders of {key:?} differ in Indonesian: {translation:?}"
                ),
            }
            used.insert(key);
        }
    }
    assert!(
        missing.is_empty(),
        "texts without an Indonesian translation:\n{}",
        missing
            .into_iter()
            .map(|k| format!("  {k:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let unused: Vec<&String> = id.keys().filter(|k| !used.contains(*k)).collect();
    assert!(
        unused.is_empty(),
        "translations no text uses any more: {unused:?}"
    );
}

#[test]
fn the_extractor_finds_each_form() {
    let source = r#"t("Send now"); N_("Paused"); plural(n, "contact"); plural(n, "unknown one", "unknown ones"); sort("no"); t("Say \"hi\""); t(
        "Wrapped by the formatter", vars); t(name)"#;
    assert_eq!(
        keys_in(source),
        [
            "Send now",
            "Say \"hi\"",
            "Wrapped by the formatter",
            "Paused",
            "contact",
            "contacts",
            "unknown one",
            "unknown ones"
        ]
    );
}

#[test]
fn the_window_knows_every_pacing_risk_by_code_in_the_core_words() {
    let view = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/screens/pacing-view.js"),
    )
    .unwrap_or_default();
    for risk in blastdesk_core::pacing::Risk::ALL {
        let entry = format!("{}: N_({:?}),", risk.code(), risk.message());
        assert!(view.contains(&entry), "pacing-view.js lacks {entry}");
    }
}
