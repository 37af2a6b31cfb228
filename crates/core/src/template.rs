//! Message templates: placeholders for any column, every occurrence replaced,
//! a stated policy for missing values, and variants (spintax) so that a blast
//! is not one identical text sent to everybody.
//!
//! Syntax:
//! - `{name}` is the recipient's value of the column "name" (any case).
//! - `{Hi|Hello|Good morning}` is one of the variants; variants may hold
//!   placeholders and further variants: `{Hi {name}|Hello}`.
//! - `{{` and `}}` are literal braces.
//!
//! Which variant a recipient gets is decided by a seed (derived from the
//! blast and the recipient), so the preview shows exactly what is sent, and a
//! re-send is the same text.

use serde::{Deserialize, Serialize};

use crate::audience::Fields;
use crate::random::SplitMix64;

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(String),
    Choice(Vec<Vec<Part>>),
}

/// What to do for a recipient whose value for a placeholder is missing or empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "policy", rename_all = "camelCase")]
pub enum MissingValue {
    /// Put this text in its place (it may be empty).
    Fallback { text: String },
    /// Leave the placeholder out with the space before it ("Hi {name}!"
    /// becomes "Hi!", not "Hi !"), or after it when it starts a line.
    Drop,
    /// Do not send to that recipient; the reason names the column.
    Skip,
}

/// Why a text is not a valid template; `position` counts characters from 0.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(
    tag = "reason",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum TemplateError {
    #[error("the {{ at character {position} is never closed (write {{{{ for a literal brace)")]
    Unclosed { position: usize },
    #[error("the }} at character {position} closes nothing (write }}}} for a literal brace)")]
    Unopened { position: usize },
    #[error("the {{}} at character {position} is empty: put a column name or variants in it")]
    Empty { position: usize },
    #[error(
        "the {{ at character {position} is inside {MAX_NESTING} others: variants may be nested at most {MAX_NESTING} deep"
    )]
    TooDeep { position: usize },
    #[error("{} no column of these recipients (their columns: {})", unknown_names(.names), .columns.join(", "))]
    UnknownColumns {
        names: Vec<String>,
        columns: Vec<String>,
    },
}

fn unknown_names(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("{{{n}}}")).collect();
    match quoted.len() {
        1 => format!("{} names", quoted[0]),
        _ => format!("{} name", quoted.join(", ")),
    }
}

/// Why a message could not be written for a recipient.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("no value for {{{field}}}")]
    MissingValue { field: String },
}

impl Template {
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let chars: Vec<char> = text.chars().collect();
        let mut at = 0;
        let parts = parse_sequence(&chars, &mut at, 0)?;
        // At the top level, reading stops early only at a stray '}'.
        if at < chars.len() {
            return Err(TemplateError::Unopened { position: at });
        }
        Ok(Template { parts })
    }

    /// The placeholders used, once each, in order of first use.
    pub fn placeholders(&self) -> Vec<String> {
        let mut names = Vec::new();
        collect_fields(&self.parts, &mut names);
        names
    }

    /// The placeholders that name none of `columns` (compared ignoring case).
    pub fn unknown_placeholders(&self, columns: &[String]) -> Vec<String> {
        self.placeholders()
            .into_iter()
            .filter(|name| !columns.iter().any(|c| c.eq_ignore_ascii_case(name)))
            .collect()
    }

    /// Refuses placeholders that name none of `columns`.
    pub fn check_columns(&self, columns: &[String]) -> Result<(), TemplateError> {
        let names = self.unknown_placeholders(columns);
        if names.is_empty() {
            return Ok(());
        }
        Err(TemplateError::UnknownColumns {
            names,
            columns: columns.to_vec(),
        })
    }

    /// The message for one recipient. `seed` picks the variants.
    pub fn render(
        &self,
        fields: &Fields,
        missing: &MissingValue,
        seed: u64,
    ) -> Result<String, RenderError> {
        let mut out = Rendering::default();
        let mut random = SplitMix64::new(seed);
        render_parts(&self.parts, fields, missing, &mut random, &mut out)?;
        Ok(out.text)
    }
}

/// How deep `{...}` may be nested: far more than a message needs, and few
/// enough that parsing (which recurses) can never exhaust the stack.
pub const MAX_NESTING: usize = 8;

/// Parses text and braces up to the end, or (`depth` > 0, inside braces)
/// up to the `|` or `}` that ends this variant.
fn parse_sequence(
    chars: &[char],
    at: &mut usize,
    depth: usize,
) -> Result<Vec<Part>, TemplateError> {
    let nested = depth > 0;
    let mut parts = Vec::new();
    let mut text = String::new();
    while let Some(&c) = chars.get(*at) {
        match c {
            '{' if chars.get(*at + 1) == Some(&'{') => {
                text.push('{');
                *at += 2;
            }
            '}' if chars.get(*at + 1) == Some(&'}') && !nested => {
                text.push('}');
                *at += 2;
            }
            '{' => {
                if !text.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut text)));
                }
                if depth >= MAX_NESTING {
                    return Err(TemplateError::TooDeep { position: *at });
                }
                parts.push(parse_braces(chars, at, depth + 1)?);
            }
            '}' | '|' if nested => break,
            '}' => break,
            _ => {
                text.push(c);
                *at += 1;
            }
        }
    }
    if !text.is_empty() {
        parts.push(Part::Text(text));
    }
    Ok(parts)
}

/// Parses `{...}` starting at the `{`: a placeholder or a choice of variants.
fn parse_braces(chars: &[char], at: &mut usize, depth: usize) -> Result<Part, TemplateError> {
    let open = *at;
    *at += 1;
    let mut variants = vec![parse_sequence(chars, at, depth)?];
    loop {
        match chars.get(*at) {
            Some('|') => {
                *at += 1;
                variants.push(parse_sequence(chars, at, depth)?);
            }
            Some('}') => {
                *at += 1;
                break;
            }
            _ => return Err(TemplateError::Unclosed { position: open }),
        }
    }
    if variants.len() > 1 {
        return Ok(Part::Choice(variants));
    }
    // One "variant" of plain text is a placeholder.
    match variants.pop().unwrap_or_default().as_slice() {
        [Part::Text(name)] if !name.trim().is_empty() => Ok(Part::Field(name.trim().to_owned())),
        [] => Err(TemplateError::Empty { position: open }),
        [Part::Text(_)] => Err(TemplateError::Empty { position: open }),
        // "{Hi {name}}": braces around more than a name are a single variant.
        other => Ok(Part::Choice(vec![other.to_vec()])),
    }
}

fn collect_fields(parts: &[Part], names: &mut Vec<String>) {
    for part in parts {
        match part {
            Part::Field(name) if !names.iter().any(|n: &String| n.eq_ignore_ascii_case(name)) => {
                names.push(name.clone());
            }
            Part::Choice(variants) => variants.iter().for_each(|v| collect_fields(v, names)),
            _ => {}
        }
    }
}

/// A message being written.
#[derive(Default)]
struct Rendering {
    text: String,
    /// A dropped placeholder began its line: the next text loses its
    /// leading spaces ("{name} promo" reads "promo").
    strip_next: bool,
}

impl Rendering {
    fn push(&mut self, value: &str) {
        self.strip_next = false;
        self.text.push_str(value);
    }

    fn push_text(&mut self, text: &str) {
        if std::mem::take(&mut self.strip_next) {
            self.text.push_str(text.trim_start_matches([' ', '\t']));
        } else {
            self.text.push_str(text);
        }
    }
}

fn render_parts(
    parts: &[Part],
    fields: &Fields,
    missing: &MissingValue,
    random: &mut SplitMix64,
    out: &mut Rendering,
) -> Result<(), RenderError> {
    for part in parts {
        match part {
            Part::Text(text) => out.push_text(text),
            Part::Field(name) => match fields.get(name).map(str::trim).filter(|v| !v.is_empty()) {
                Some(value) => out.push(value),
                None => match missing {
                    MissingValue::Fallback { text } => out.push(text),
                    MissingValue::Drop => drop_placeholder(out),
                    MissingValue::Skip => {
                        return Err(RenderError::MissingValue {
                            field: name.clone(),
                        });
                    }
                },
            },
            Part::Choice(variants) => {
                let pick = (random.next_u64() % variants.len() as u64) as usize;
                render_parts(&variants[pick], fields, missing, random, out)?;
            }
        }
    }
    Ok(())
}

/// Leaves a missing placeholder out: the spaces before it go with it, and
/// when nothing but the line's start is before it, the spaces after it.
fn drop_placeholder(out: &mut Rendering) {
    let kept = out.text.trim_end_matches([' ', '\t']).len();
    out.text.truncate(kept);
    if out.text.is_empty() || out.text.ends_with('\n') {
        out.strip_next = true;
    }
}

/// The seed for a recipient of a blast: stable across runs and restarts.
pub fn seed_for(blast_id: i64, phone: &str) -> u64 {
    // FNV-1a over the blast id and the number.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in blast_id.to_le_bytes().iter().chain(phone.as_bytes()) {
        hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        Fields::new(
            pairs
                .iter()
                .map(|(k, v)| (Arc::from(*k), (*v).to_owned()))
                .collect(),
        )
    }

    fn fallback(text: &str) -> MissingValue {
        MissingValue::Fallback {
            text: text.to_owned(),
        }
    }

    #[test]
    fn placeholders_are_replaced_everywhere_and_missing_values_follow_the_policy() {
        let ani = fields(&[("Nama", "Ani"), ("Kota", " Bogor "), ("Catatan", "")]);
        let cases: &[(&str, MissingValue, Result<&str, RenderError>)] = &[
            ("Hi {nama}!", fallback(""), Ok("Hi Ani!")),
            // Every occurrence, not only the first (the old system's bug).
            ("{Nama}, {nama}, {NAMA}", fallback(""), Ok("Ani, Ani, Ani")),
            ("From {kota}", fallback(""), Ok("From Bogor")),
            ("Hi {Panggilan}", fallback("Kak"), Ok("Hi Kak")),
            ("Note: {catatan}.", fallback("-"), Ok("Note: -.")),
            (
                "Hi {Panggilan}",
                MissingValue::Skip,
                Err(RenderError::MissingValue {
                    field: "Panggilan".into(),
                }),
            ),
            (
                "{{literal}} and {nama}",
                fallback(""),
                Ok("{literal} and Ani"),
            ),
            (
                "No placeholders at all",
                fallback(""),
                Ok("No placeholders at all"),
            ),
            ("<b>{nama}</b>", fallback(""), Ok("<b>Ani</b>")),
            // Left out, the placeholder takes its space along: no "Hi Kak !".
            ("Halo Kak {Panggilan}!", MissingValue::Drop, Ok("Halo Kak!")),
            (
                "Halo {nama} {Panggilan}, hi",
                MissingValue::Drop,
                Ok("Halo Ani, hi"),
            ),
            ("{Panggilan} promo", MissingValue::Drop, Ok("promo")),
            ("Hi\n{Panggilan} promo", MissingValue::Drop, Ok("Hi\npromo")),
            (
                "Hi\n  {Panggilan} promo",
                MissingValue::Drop,
                Ok("Hi\npromo"),
            ),
            (
                "Kode\u{0}{Panggilan} ok",
                MissingValue::Drop,
                Ok("Kode\u{0} ok"),
            ),
            ("Hi {nama}", MissingValue::Drop, Ok("Hi Ani")),
            ("{Panggilan}{nama}", MissingValue::Drop, Ok("Ani")),
        ];
        for (text, policy, expected) in cases {
            let template = Template::parse(text).map_err(|e| e.to_string());
            let rendered = template.map(|t| t.render(&ani, policy, 7));
            assert_eq!(
                rendered,
                Ok(expected.clone().map(str::to_owned)),
                "{text:?}"
            );
        }
    }

    #[test]
    fn variants_are_chosen_by_seed_and_all_get_used() {
        let template = Template::parse("{Hi|Hello|Good morning} {nama}, {see you|bye}!")
            .unwrap_or_else(|e| panic!("{e}"));
        let ani = fields(&[("nama", "Ani")]);
        let mut seen = std::collections::HashSet::new();
        for seed in 0..200 {
            let text = template
                .render(&ani, &fallback(""), seed)
                .unwrap_or_default();
            assert_eq!(
                text,
                template
                    .render(&ani, &fallback(""), seed)
                    .unwrap_or_default(),
                "same seed, same text"
            );
            assert!(text.ends_with("!") && text.contains(" Ani, "), "{text}");
            seen.insert(text);
        }
        assert_eq!(seen.len(), 6, "every combination occurs: {seen:?}");
    }

    #[test]
    fn variants_may_hold_placeholders_and_variants() {
        let template =
            Template::parse("{Hi {nama}|{Hello|Hey} there}").unwrap_or_else(|e| panic!("{e}"));
        let ani = fields(&[("nama", "Ani")]);
        let outputs: std::collections::HashSet<String> = (0..100)
            .map(|seed| {
                template
                    .render(&ani, &fallback(""), seed)
                    .unwrap_or_default()
            })
            .collect();
        let expected: std::collections::HashSet<String> = ["Hi Ani", "Hello there", "Hey there"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        assert_eq!(outputs, expected);
        assert_eq!(template.placeholders(), ["nama"]);
    }

    #[test]
    fn malformed_templates_say_where() {
        let cases = [
            ("Hi {nama", TemplateError::Unclosed { position: 3 }),
            ("Hi nama}", TemplateError::Unopened { position: 7 }),
            ("Hi {} there", TemplateError::Empty { position: 3 }),
            ("Hi {  }", TemplateError::Empty { position: 3 }),
            (
                "{a|{a|{a|{a|{a|{a|{a|{a|{a|x}}}}}}}}}",
                TemplateError::TooDeep { position: 24 },
            ),
            ("{Hi|Hello", TemplateError::Unclosed { position: 0 }),
        ];
        for (text, expected) in cases {
            assert_eq!(Template::parse(text), Err(expected.clone()), "{text:?}");
        }
        assert!(
            TemplateError::Unclosed { position: 3 }
                .to_string()
                .contains("character 3")
        );
        // A "|" outside braces is ordinary text.
        assert!(Template::parse("a | b").is_ok());
    }

    #[test]
    fn unknown_placeholders_are_listed() {
        let template =
            Template::parse("Hi {Nama} from {kota}, {nmae}!").unwrap_or_else(|e| panic!("{e}"));
        let columns = vec!["nama".to_owned(), "Kota".to_owned()];
        assert_eq!(template.placeholders(), ["Nama", "kota", "nmae"]);
        assert_eq!(template.unknown_placeholders(&columns), ["nmae"]);
    }

    #[test]
    fn seeds_differ_by_blast_and_recipient() {
        assert_eq!(seed_for(1, "+6281234567890"), seed_for(1, "+6281234567890"));
        assert_ne!(seed_for(1, "+6281234567890"), seed_for(2, "+6281234567890"));
        assert_ne!(seed_for(1, "+6281234567890"), seed_for(1, "+6281234567891"));
    }
}
