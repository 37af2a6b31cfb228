//! `blast::create`, the one path by which a list becomes a blast (used by
//! the window, the command line and the scheduler): what it refuses, and
//! what it does to a list that passes.

use std::path::Path;
use std::sync::Arc;

use blastdesk_core::ErrorCode;
use blastdesk_core::Store;
use blastdesk_core::audience::{Fields, Recipient, Source};
use blastdesk_core::blast::{self, Attachment, BlastOptions, CreateError, NewBlast, Sender};
use blastdesk_core::messenger::MediaKind;
use blastdesk_core::phone::Phone;
use blastdesk_core::reason::DeliveryCode;
use blastdesk_core::report::Report;
use blastdesk_core::sample;
use blastdesk_core::store::AccountKind;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const NOW: i64 = 1_700_000_000_000;

fn customer(phone: &str, name: &str, source: Source) -> Recipient {
    Recipient {
        phone: Phone::from_e164_unchecked(phone.into()),
        fields: Fields::new(vec![(Arc::from("nama"), name.to_owned())]),
        source,
    }
}

fn regulars() -> Source {
    Source::Audience {
        audience: Arc::from("Regulars"),
    }
}

fn customers() -> Vec<Recipient> {
    vec![
        customer("+6281234567890", "Ani", regulars()),
        customer("+6281298765432", "Budi", regulars()),
    ]
}

/// The sample customers, as if a person had saved them under another name
/// or typed them into a spreadsheet: still refused by their numbers.
fn sample_in_disguise() -> Vec<Recipient> {
    let mut list = customers();
    let mut copied = sample::recipients().remove(0);
    copied.source = Source::File {
        file: Arc::from("pelanggan.xlsx"),
        sheet: Arc::from("Sheet1"),
        row: 3,
    };
    list.push(copied);
    list
}

fn request<'a>(recipients: &'a [Recipient], sender: Sender) -> NewBlast<'a> {
    NewBlast {
        name: "Promo",
        template: "Halo {nama}",
        sender,
        recipients,
        options: BlastOptions::default(),
        attach: None,
    }
}

fn attachments(dir: &Path) -> Result<usize, std::io::Error> {
    match std::fs::read_dir(dir.join(blast::ATTACHMENTS)) {
        Ok(entries) => Ok(entries.count()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(e),
    }
}

#[test]
fn what_cannot_be_sent_is_refused_with_its_code_and_nothing_is_written() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let whatsapp = store.add_account("Toko", AccountKind::Whatsapp, "Asia/Jakarta", NOW)?;
    let list = customers();
    let disguised = sample_in_disguise();
    let missing = dir.path().join("gone.jpg");
    let empty_file = dir.path().join("empty.pdf");
    std::fs::write(&empty_file, b"")?;
    let long_name = "x".repeat(blast::MAX_NAME_CHARS + 1);
    let real = Sender::Account(whatsapp);
    let cases: Vec<(&str, NewBlast<'_>, ErrorCode)> = vec![
        (
            "no name",
            NewBlast {
                name: "   ",
                ..request(&list, real)
            },
            ErrorCode::InvalidInput,
        ),
        (
            "a name too long",
            NewBlast {
                name: &long_name,
                ..request(&list, real)
            },
            ErrorCode::InvalidInput,
        ),
        (
            "an unclosed brace",
            NewBlast {
                template: "Halo {nama",
                ..request(&list, real)
            },
            ErrorCode::TemplateInvalid,
        ),
        (
            "a column the list does not have",
            NewBlast {
                template: "Halo {kota}",
                ..request(&list, real)
            },
            ErrorCode::TemplateInvalid,
        ),
        (
            "no message and no attachment",
            NewBlast {
                template: "  ",
                ..request(&list, real)
            },
            ErrorCode::InvalidInput,
        ),
        (
            "no one to send to",
            request(&[], real),
            ErrorCode::InvalidInput,
        ),
        (
            "made-up sample numbers to a real account",
            request(&disguised, real),
            ErrorCode::InvalidInput,
        ),
        (
            "an account that does not exist",
            request(&list, Sender::Account(999)),
            ErrorCode::AccountNotFound,
        ),
        (
            "an attachment that is not there",
            NewBlast {
                attach: Some(&missing),
                ..request(&list, real)
            },
            ErrorCode::AttachmentUnreadable,
        ),
        (
            "an empty attachment",
            NewBlast {
                attach: Some(&empty_file),
                ..request(&list, real)
            },
            ErrorCode::AttachmentUnreadable,
        ),
    ];
    for (what, blast, code) in cases {
        match blast::create(&store, &blast, NOW) {
            Ok(created) => panic!("{what}: created {created:?}"),
            Err(error) => {
                assert_eq!(error.code(), code, "{what}: {error}");
                assert!(!error.to_string().is_empty(), "{what}");
            }
        }
        assert!(
            store.list_blasts()?.is_empty(),
            "{what}: a blast was written"
        );
        assert_eq!(attachments(dir.path())?, 0, "{what}: a file was kept");
    }
    // The sample itself is what rehearsals are for.
    let created = blast::create(&store, &request(&disguised, Sender::Rehearsal), NOW)?;
    assert_eq!(created.recipients, 3);
    Ok(())
}

#[test]
fn a_stop_after_the_preview_is_honoured_when_the_blast_is_made() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let account = store.add_account("Toko", AccountKind::Whatsapp, "Asia/Jakarta", NOW)?;
    // The preview was shown; then Budi replied STOP; then Send was pressed
    // with the list as it was previewed.
    let previewed = customers();
    store.add_do_not_contact(&previewed[1].phone, "replied STOP", NOW)?;
    let created = blast::create(&store, &request(&previewed, Sender::Account(account)), NOW)?;
    assert_eq!(created.recipients, 2);
    assert_eq!(created.do_not_contact, 1);
    let counts = store.delivery_counts(created.blast_id)?;
    assert_eq!((counts.queued, counts.skipped), (1, 1));
    let report = Report::load(&store, created.blast_id)?;
    let budi = report
        .rows
        .iter()
        .find(|row| row.phone == previewed[1].phone.as_str())
        .ok_or("Budi is not in the report")?;
    assert_eq!(
        (budi.outcome, budi.error_code.map(DeliveryCode::as_str)),
        ("skipped", Some("do_not_contact"))
    );
    Ok(())
}

#[test]
fn rehearsals_go_to_one_rehearsal_account_and_real_blasts_to_the_account_named() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let list = customers();
    let first = blast::create(&store, &request(&list, Sender::Rehearsal), NOW)?;
    let second = blast::create(&store, &request(&list, Sender::Rehearsal), NOW)?;
    assert_eq!(first.account_id, second.account_id);
    let rehearsal = store.account(first.account_id)?;
    assert_eq!(
        (rehearsal.name.as_str(), rehearsal.kind),
        (blast::REHEARSAL_ACCOUNT, AccountKind::Simulated)
    );
    assert!(store.blast_summary(first.blast_id)?.simulated);

    let toko = store.add_account("Toko", AccountKind::Whatsapp, "Asia/Jakarta", NOW)?;
    let real = blast::create(&store, &request(&list, Sender::Account(toko)), NOW)?;
    assert_eq!(real.account_id, toko);
    let summary = store.blast_summary(real.blast_id)?;
    assert!(!summary.simulated);
    assert_eq!(
        (summary.state.as_str(), summary.name.as_str()),
        ("queued", "Promo")
    );
    Ok(())
}

#[test]
fn an_attachment_is_kept_in_the_data_folder_under_its_own_id() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let elsewhere = tempfile::tempdir()?;
    let chosen = elsewhere.path().join("Daftar harga.pdf");
    std::fs::write(&chosen, b"%PDF-1.4 first")?;
    let list = customers();
    let mut ids = Vec::new();
    for (contents, check_numbers) in [(&b"%PDF-1.4 first"[..], false), (b"%PDF-1.4 second", true)] {
        std::fs::write(&chosen, contents)?;
        let created = blast::create(
            &store,
            &NewBlast {
                attach: Some(&chosen),
                options: BlastOptions {
                    check_numbers,
                    ..BlastOptions::default()
                },
                ..request(&list, Sender::Rehearsal)
            },
            NOW,
        )?;
        ids.push(created.blast_id);
    }
    // Two blasts, the same file name, the same instant: two copies, each
    // blast sending the file as it was when it was made.
    assert_eq!(attachments(dir.path())?, 2);
    let kept: Vec<Vec<u8>> = std::fs::read_dir(dir.path().join(blast::ATTACHMENTS))?
        .map(|entry| std::fs::read(entry?.path()))
        .collect::<Result<_, _>>()?;
    assert!(kept.contains(&b"%PDF-1.4 first".to_vec()));
    assert!(kept.contains(&b"%PDF-1.4 second".to_vec()));
    std::fs::remove_file(&chosen)?;

    // A kept attachment can be named again (a schedule's next run) only by
    // its id, and only while it is there.
    let attachment: Attachment = serde_json::from_value(serde_json::json!({
        "id": std::fs::read_dir(dir.path().join(blast::ATTACHMENTS))?
            .next()
            .ok_or("no kept file")??
            .file_name()
            .to_string_lossy(),
        "kind": "document",
        "fileName": "Daftar harga.pdf",
    }))?;
    assert_eq!(attachment.kind, MediaKind::Document);
    let again = blast::create(
        &store,
        &NewBlast {
            options: BlastOptions {
                media: Some(attachment.clone()),
                ..BlastOptions::default()
            },
            ..request(&list, Sender::Rehearsal)
        },
        NOW,
    )?;
    assert_eq!(attachments(dir.path())?, 2, "no new copy for a kept file");
    std::fs::remove_file(attachment.media(dir.path()).path)?;
    let gone = blast::create(
        &store,
        &NewBlast {
            options: BlastOptions {
                media: Some(attachment),
                ..BlastOptions::default()
            },
            ..request(&list, Sender::Rehearsal)
        },
        NOW,
    );
    assert!(matches!(gone, Err(CreateError::Attachment(_))), "{gone:?}");
    assert_eq!(store.list_blasts()?.len(), ids.len() + 1);
    assert!(again.blast_id > ids[1]);
    Ok(())
}
