//! The simulated messenger: ledger, error classes, injected faults.

use blastdesk_core::clock::ManualClock;
use blastdesk_core::messenger::{
    AccountProblem, ErrorClass, Faults, Messenger, Outgoing, RecipientProblem, SendError,
    SimulatedMessenger, read_ledger,
};
use blastdesk_core::phone::Phone;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn message(delivery_id: i64, phone: &str, text: &str) -> Outgoing {
    Outgoing {
        blast_id: 7,
        delivery_id,
        to: Phone::from_e164_unchecked(phone.into()),
        text: text.into(),
        media: None,
    }
}

#[tokio::test]
async fn accepted_messages_are_appended_to_the_ledger_with_the_clock_time() -> TestResult {
    let dir = tempfile::tempdir()?;
    let ledger = dir.path().join("ledger.jsonl");
    let clock = ManualClock::at(1_000);
    let messenger = SimulatedMessenger::open(&ledger, Faults::default(), clock.clone())?;
    let first = messenger
        .send(&message(1, "+6281234567890", "Hi Ani"))
        .await?;
    clock.advance(30_000);
    messenger
        .send(&message(2, "+6281298765432", "Hi Budi"))
        .await?;

    let entries = read_ledger(&ledger)?;
    assert_eq!(entries.len(), 2);
    assert_eq!(
        (
            entries[0].phone.as_str(),
            entries[0].text.as_str(),
            entries[0].at_ms
        ),
        ("+6281234567890", "Hi Ani", 1_000)
    );
    assert_eq!(entries[1].at_ms, 31_000);
    assert_eq!(entries[0].message_id, first.message_id);
    assert_ne!(entries[0].message_id, entries[1].message_id);

    // A second messenger on the same ledger appends (a restart keeps history).
    let again = SimulatedMessenger::open(&ledger, Faults::default(), clock)?;
    again
        .send(&message(3, "+6281311112222", "Hi Citra"))
        .await?;
    assert_eq!(read_ledger(&ledger)?.len(), 3);
    Ok(())
}

#[tokio::test]
async fn a_torn_last_line_is_ignored_when_reading_the_ledger() -> TestResult {
    let dir = tempfile::tempdir()?;
    let ledger = dir.path().join("ledger.jsonl");
    let messenger = SimulatedMessenger::open(&ledger, Faults::default(), ManualClock::at(0))?;
    messenger.send(&message(1, "+6281234567890", "Hi")).await?;
    {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new().append(true).open(&ledger)?;
        file.write_all(b"{\"blastId\":7,\"deliv")?;
    }
    assert_eq!(read_ledger(&ledger)?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn injected_faults_are_reproducible_and_in_proportion() -> TestResult {
    let dir = tempfile::tempdir()?;
    let faults = Faults {
        seed: 42,
        transient_share: 0.2,
        permanent_share: 0.1,
        ..Faults::default()
    };
    let mut runs = Vec::new();
    for run in 0..2 {
        let messenger = SimulatedMessenger::open(
            &dir.path().join(format!("{run}.jsonl")),
            faults.clone(),
            ManualClock::at(0),
        )?;
        let mut outcomes = Vec::new();
        for i in 0..2_000 {
            let outcome = messenger
                .send(&message(i, &format!("+62812{:08}", i), "Hi"))
                .await;
            outcomes.push(outcome.map(|_| ()).map_err(|e| e.class()));
        }
        runs.push(outcomes);
    }
    assert_eq!(runs[0], runs[1], "the same seed gives the same faults");
    let transient = runs[0]
        .iter()
        .filter(|o| *o == &Err(ErrorClass::Transient))
        .count();
    let permanent = runs[0]
        .iter()
        .filter(|o| *o == &Err(ErrorClass::Recipient))
        .count();
    assert!((340..460).contains(&transient), "transient {transient}");
    assert!((150..250).contains(&permanent), "permanent {permanent}");
    let delivered = read_ledger(&dir.path().join("0.jsonl"))?.len();
    assert_eq!(delivered, 2_000 - transient - permanent);
    Ok(())
}

#[tokio::test]
async fn logout_and_temporary_ban_are_account_errors() -> TestResult {
    let dir = tempfile::tempdir()?;
    let clock = ManualClock::at(0);
    let logout = SimulatedMessenger::open(
        &dir.path().join("logout.jsonl"),
        Faults {
            logout_after: Some(3),
            ..Faults::default()
        },
        clock.clone(),
    )?;
    for i in 0..3 {
        logout.send(&message(i, "+6281234567890", "Hi")).await?;
    }
    let error = logout
        .send(&message(3, "+6281234567890", "Hi"))
        .await
        .err()
        .ok_or("sent after logout")?;
    assert_eq!(
        error,
        SendError::Account {
            problem: AccountProblem::LoggedOut
        }
    );
    assert_eq!(error.class(), ErrorClass::Account);
    assert_eq!(read_ledger(&dir.path().join("logout.jsonl"))?.len(), 3);

    let ban = SimulatedMessenger::open(
        &dir.path().join("ban.jsonl"),
        Faults {
            ban_after: Some(2),
            ban_for_ms: 60_000,
            ..Faults::default()
        },
        clock.clone(),
    )?;
    ban.send(&message(1, "+6281234567890", "Hi")).await?;
    ban.send(&message(2, "+6281234567890", "Hi")).await?;
    let error = ban
        .send(&message(3, "+6281234567890", "Hi"))
        .await
        .err()
        .ok_or("sent while banned")?;
    assert_eq!(error.code().as_str(), "temporarily_banned");
    assert!(matches!(
        error,
        SendError::Account {
            problem: AccountProblem::TemporarilyBanned {
                until_ms: Some(60_000),
                ..
            }
        }
    ));
    clock.advance(60_000);
    ban.send(&message(3, "+6281234567890", "Hi")).await?;
    Ok(())
}

#[tokio::test]
async fn numbers_not_on_whatsapp_fail_for_that_recipient_only() -> TestResult {
    let dir = tempfile::tempdir()?;
    let absent = Phone::from_e164_unchecked("+6281299990000".into());
    let messenger = SimulatedMessenger::open(
        &dir.path().join("l.jsonl"),
        Faults {
            not_on_whatsapp: [absent.clone()].into_iter().collect(),
            ..Faults::default()
        },
        ManualClock::at(0),
    )?;
    let present = Phone::from_e164_unchecked("+6281234567890".into());
    assert_eq!(
        messenger
            .check_numbers(&[present.clone(), absent.clone()])
            .await?,
        [true, false]
    );
    let error = messenger
        .send(&message(1, absent.as_str(), "Hi"))
        .await
        .err()
        .ok_or("sent")?;
    assert_eq!(
        error,
        SendError::Recipient {
            problem: RecipientProblem::NotOnWhatsapp
        }
    );
    messenger.send(&message(2, present.as_str(), "Hi")).await?;
    Ok(())
}

#[test]
fn every_error_has_a_class_a_code_and_words() {
    let cases = [
        (
            SendError::Transient {
                detail: "timeout".into(),
            },
            ErrorClass::Transient,
            "transient",
        ),
        (
            SendError::Recipient {
                problem: RecipientProblem::NotOnWhatsapp,
            },
            ErrorClass::Recipient,
            "not_on_whatsapp",
        ),
        (
            SendError::Recipient {
                problem: RecipientProblem::InvalidNumber,
            },
            ErrorClass::Recipient,
            "invalid_number",
        ),
        (
            SendError::Account {
                problem: AccountProblem::NotConnected,
            },
            ErrorClass::Account,
            "not_connected",
        ),
        (
            SendError::Account {
                problem: AccountProblem::LoggedOut,
            },
            ErrorClass::Account,
            "logged_out",
        ),
        (
            SendError::Account {
                problem: AccountProblem::RateLimited {
                    retry_after_ms: Some(5_000),
                },
            },
            ErrorClass::Account,
            "rate_limited",
        ),
        (
            SendError::Account {
                problem: AccountProblem::TemporarilyBanned {
                    until_ms: None,
                    reason_code: Some(104),
                },
            },
            ErrorClass::Account,
            "temporarily_banned",
        ),
        (
            SendError::Recipient {
                problem: RecipientProblem::Refused { code: 479 },
            },
            ErrorClass::Recipient,
            "refused",
        ),
        (
            SendError::Account {
                problem: AccountProblem::ReachOutRestricted,
            },
            ErrorClass::Account,
            "reach_out_restricted",
        ),
    ];
    for (error, class, code) in cases {
        assert_eq!(
            (error.class(), error.code().as_str()),
            (class, code),
            "{error:?}"
        );
        assert!(!error.to_string().is_empty());
    }
}
