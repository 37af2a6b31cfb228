//! The account state machine, driven by scripted sequences of what the
//! WhatsApp library reports: each step's status and effects are checked.

use blastdesk_core::account::{AccountMachine, AccountStatus, Effect, LinkSignal, LogoutBy};
use blastdesk_core::clock::Millis;

/// A compact view of an effect, for scripts.
fn kind(effect: &Effect) -> String {
    match effect {
        Effect::Status(status) => format!("status:{}", status.code()),
        Effect::ShowQr {
            code,
            expires_at_ms,
        } => format!("qr:{code}@{expires_at_ms}"),
        Effect::Linked { phone } => format!("linked:{}", phone.as_deref().unwrap_or("?")),
        Effect::ForgetSession => "forget".into(),
        Effect::StopClient => "stop".into(),
        Effect::DisconnectClient => "disconnect".into(),
        Effect::Reconnect { at_ms } => format!("reconnect@{at_ms}"),
        Effect::PauseBlasts { code, .. } => format!("pause:{code}"),
        Effect::ResumeBlasts => "resume".into(),
        Effect::RequestPairCode => "request_pair_code".into(),
    }
}

/// Runs `script` (instant, signal, expected effects) from `start`.
fn run(start: AccountStatus, script: Vec<(Millis, LinkSignal, &[&str])>) -> AccountMachine {
    let mut machine = AccountMachine::new(start);
    for (step, (now, signal, expected)) in script.into_iter().enumerate() {
        let shown = format!("{signal:?}");
        let effects: Vec<String> = machine.on(signal, now).iter().map(kind).collect();
        assert_eq!(effects, expected, "step {step}: {shown}");
    }
    machine
}

fn qr(code: &str, valid_for_ms: Millis) -> LinkSignal {
    LinkSignal::QrCode {
        code: code.into(),
        valid_for_ms,
    }
}

fn disconnected(reached: bool) -> LinkSignal {
    LinkSignal::Disconnected {
        reason: "stream ended".into(),
        reached,
    }
}

#[test]
fn linking_by_qr_with_rotation_then_the_restart_after_pairing_is_not_a_logout() {
    let machine = run(
        AccountStatus::Unlinked,
        vec![
            (0, LinkSignal::LinkStarted, &["status:connecting"]),
            // The first code lasts about 60 s, later ones about 20 s.
            (
                1_000,
                qr("A", 60_000),
                &["status:awaiting_qr", "qr:A@61000"],
            ),
            (
                61_000,
                qr("B", 20_000),
                &["status:awaiting_qr", "qr:B@81000"],
            ),
            (
                70_000,
                LinkSignal::PairSuccess {
                    phone: Some("+6281234567890".into()),
                },
                &["status:connecting", "linked:+6281234567890"],
            ),
            // WhatsApp closes the stream (515) to restart: reconnect at once.
            (
                70_500,
                disconnected(true),
                &["status:connecting", "reconnect@70500"],
            ),
            (
                71_000,
                LinkSignal::Connected,
                &["status:connected", "resume"],
            ),
        ],
    );
    assert_eq!(machine.status(), &AccountStatus::Connected);
}

#[test]
fn unscanned_codes_run_out_into_a_clear_try_again() {
    let machine = run(
        AccountStatus::Unlinked,
        vec![
            (0, LinkSignal::LinkStarted, &["status:connecting"]),
            (0, qr("A", 60_000), &["status:awaiting_qr", "qr:A@60000"]),
            (
                60_000,
                qr("B", 20_000),
                &["status:awaiting_qr", "qr:B@80000"],
            ),
            (
                80_000,
                LinkSignal::QrCodesExhausted,
                &["status:link_failed", "stop"],
            ),
            // The client's disconnect after that changes nothing.
            (80_001, disconnected(true), &[]),
        ],
    );
    assert!(matches!(machine.status(), AccountStatus::LinkFailed { .. }));
    assert!(machine.status().needs_attention());
}

#[test]
fn pairing_by_code() {
    run(
        AccountStatus::Unlinked,
        vec![
            (0, LinkSignal::LinkStarted, &["status:connecting"]),
            (
                500,
                LinkSignal::PairCode {
                    code: "ABCD-EFGH".into(),
                    valid_for_ms: 180_000,
                },
                &["status:awaiting_pair_code"],
            ),
            (
                90_000,
                LinkSignal::PairSuccess { phone: None },
                &["status:connecting", "linked:?"],
            ),
            (
                91_000,
                LinkSignal::Connected,
                &["status:connected", "resume"],
            ),
        ],
    );
    let mut failed = AccountMachine::new(AccountStatus::Connecting);
    let effects = failed.on(
        LinkSignal::PairCodeFailed {
            reason: "too many attempts".into(),
        },
        0,
    );
    assert_eq!(
        effects.iter().map(kind).collect::<Vec<_>>(),
        ["status:link_failed", "stop"]
    );
}

#[test]
fn lost_connections_back_off_and_tell_when_the_next_attempt_is() {
    let machine = run(
        AccountStatus::Connected,
        vec![
            (
                10_000,
                disconnected(true),
                &["status:disconnected", "reconnect@11000"],
            ),
            (
                11_000,
                disconnected(false),
                &["status:disconnected", "reconnect@12000"],
            ),
            (
                12_000,
                disconnected(false),
                &["status:disconnected", "reconnect@14000"],
            ),
            (
                14_000,
                disconnected(false),
                &["status:disconnected", "reconnect@17000"],
            ),
        ],
    );
    assert_eq!(
        machine.status(),
        &AccountStatus::Disconnected {
            reason: "stream ended".into(),
            next_attempt_at_ms: 17_000,
            offline: true,
        }
    );
    // The app restarts: the linked account connects again with its keys.
    let mut restarted = AccountMachine::new(machine.status().clone());
    let effects: Vec<String> = restarted
        .on(LinkSignal::Resumed, 15_000)
        .iter()
        .map(kind)
        .collect();
    assert_eq!(effects, ["status:connecting"]);
    // Back online: connected, and the blasts that waited for it go on.
    let mut machine = machine;
    let effects: Vec<String> = machine
        .on(LinkSignal::Connected, 20_000)
        .iter()
        .map(kind)
        .collect();
    assert_eq!(effects, ["status:connected", "resume"]);
}

#[test]
fn a_logout_from_the_phone_and_one_by_the_person_are_told_apart() {
    for (by_user, by) in [(false, LogoutBy::Phone), (true, LogoutBy::You)] {
        let machine = run(
            AccountStatus::Connected,
            vec![
                (
                    5_000,
                    LinkSignal::LoggedOut { by_user },
                    &["status:logged_out", "stop", "forget", "pause:logged_out"],
                ),
                (5_001, disconnected(true), &[]),
            ],
        );
        assert_eq!(machine.status(), &AccountStatus::LoggedOut { by });
        assert!(!machine.status().is_linked());
    }
    // And a new link attempt starts over.
    let mut machine = AccountMachine::new(AccountStatus::LoggedOut {
        by: LogoutBy::Phone,
    });
    let effects: Vec<String> = machine
        .on(LinkSignal::LinkStarted, 0)
        .iter()
        .map(kind)
        .collect();
    assert_eq!(effects, ["status:connecting"]);
}

#[test]
fn replaced_banned_and_outdated_stop_the_client_and_pause_blasts() {
    run(
        AccountStatus::Connected,
        vec![(
            0,
            LinkSignal::Replaced,
            &["status:replaced", "stop", "pause:connection_replaced"],
        )],
    );
    let machine = run(
        AccountStatus::Connected,
        vec![
            (
                1_000,
                LinkSignal::TemporaryBan {
                    reason_code: 101,
                    lasts_ms: 86_400_000,
                },
                &[
                    "status:temporarily_banned",
                    "disconnect",
                    "pause:temporarily_banned",
                    "reconnect@86401000",
                ],
            ),
            // The connection's end during the ban changes nothing.
            (1_001, disconnected(true), &[]),
        ],
    );
    let banned = AccountStatus::TemporarilyBanned {
        until_ms: 86_401_000,
        reason_code: 101,
    };
    assert_eq!(machine.status(), &banned);
    // Started again during the ban: it waits for the ban's end, then
    // connects; a failed attempt after the end is retried like any other.
    run(
        banned.clone(),
        vec![
            (5_000, LinkSignal::Resumed, &["reconnect@86401000"]),
            (86_401_000, LinkSignal::Resumed, &["status:connecting"]),
            (
                86_402_000,
                disconnected(true),
                &["status:disconnected", "reconnect@86403000"],
            ),
            (
                86_403_500,
                LinkSignal::Connected,
                &["status:connected", "resume"],
            ),
        ],
    );
    // A lock is a ban with no end: no reconnect, the keys go, WhatsApp's words stay.
    let machine = run(
        AccountStatus::Connected,
        vec![
            (
                0,
                LinkSignal::Locked {
                    message: Some("Your account has been banned".into()),
                },
                &["status:locked", "stop", "forget", "pause:account_locked"],
            ),
            (1, disconnected(true), &[]),
        ],
    );
    assert_eq!(
        machine.status(),
        &AccountStatus::Locked {
            message: Some("Your account has been banned".into())
        }
    );
    assert!(machine.status().needs_attention() && !machine.status().is_linked());
    run(
        AccountStatus::Connecting,
        vec![(
            0,
            LinkSignal::ClientOutdated,
            &["status:outdated", "stop", "pause:outdated_client"],
        )],
    );
}

#[test]
fn statuses_serialise_with_a_stable_tag() {
    let status = AccountStatus::Disconnected {
        reason: "read error".into(),
        next_attempt_at_ms: 42,
        offline: true,
    };
    let json = serde_json::to_value(&status).unwrap_or_default();
    assert_eq!(
        json,
        serde_json::json!({"status": "disconnected", "reason": "read error", "nextAttemptAtMs": 42, "offline": true})
    );
    let back: AccountStatus = serde_json::from_value(json).unwrap_or(AccountStatus::Unlinked);
    assert_eq!(back, status);
}

mod stored {
    use blastdesk_core::Store;
    use blastdesk_core::account::{AccountStatus, LogoutBy};
    use blastdesk_core::store::AccountKind;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn an_account_keeps_its_status_number_and_details_and_can_be_removed() -> TestResult {
        let dir = tempfile::tempdir()?;
        let store = Store::open_in(dir.path())?;
        let id = store.add_account("Toko Pusat", AccountKind::Whatsapp, "Asia/Jakarta", 0)?;
        assert_eq!(store.account(id)?.status, AccountStatus::Unlinked);

        store.set_account_status(id, &AccountStatus::Connecting)?;
        store.set_account_linked(id, Some("+6281234567890"), 5)?;
        store.set_account_status(id, &AccountStatus::Connected)?;
        store.set_account_details(id, "Toko Bandung", " Cabang Bandung ")?;
        let account = store.account(id)?;
        assert_eq!(
            (
                account.name.as_str(),
                account.business_unit.as_deref(),
                account.phone.as_deref()
            ),
            (
                "Toko Bandung",
                Some("Cabang Bandung"),
                Some("+6281234567890")
            )
        );
        assert_eq!(
            (account.status, account.needs_attention),
            (AccountStatus::Connected, false)
        );
        assert!(
            store.set_account_details(id, "  ", "").is_err(),
            "a name is needed"
        );

        let out = AccountStatus::LoggedOut {
            by: LogoutBy::Phone,
        };
        store.set_account_status(id, &out)?;
        let reopened = Store::open_in(dir.path())?;
        assert_eq!(reopened.account(id)?.status, out);
        assert!(reopened.account(id)?.needs_attention);

        reopened.remove_account(id, 9)?;
        assert!(reopened.list_accounts()?.is_empty());
        assert_eq!(
            reopened.account(id).err().map(|e| e.code().as_str()),
            Some("account_not_found")
        );
        assert!(reopened.remove_account(id, 10).is_err());
        Ok(())
    }
}

/// As whatsapp-rust and WhatsApp Web do: the backoff starts afresh only
/// after a connection that lasted 30 s; one that drops at once keeps
/// counting up, so a flapping connection is not retried every second.
#[test]
fn only_a_stable_connection_resets_the_backoff() {
    run(
        AccountStatus::Connected,
        vec![
            (
                0,
                disconnected(true),
                &["status:disconnected", "reconnect@1000"],
            ),
            (
                1_000,
                disconnected(true),
                &["status:disconnected", "reconnect@2000"],
            ),
            (
                2_000,
                disconnected(true),
                &["status:disconnected", "reconnect@4000"],
            ),
            (
                4_000,
                LinkSignal::Connected,
                &["status:connected", "resume"],
            ),
            // Up for 5 s: not stable, the next wait is longer still.
            (
                9_000,
                disconnected(true),
                &["status:disconnected", "reconnect@12000"],
            ),
            (
                12_000,
                LinkSignal::Connected,
                &["status:connected", "resume"],
            ),
            // Up for 40 s: stable, back to a one-second wait.
            (
                52_000,
                disconnected(true),
                &["status:disconnected", "reconnect@53000"],
            ),
        ],
    );
}

/// A connection refused with a code that trying again cannot change ends
/// the attempts (the library stops reconnecting there too): link again.
#[test]
fn a_final_connection_refusal_stops_instead_of_retrying_forever() {
    let machine = run(
        AccountStatus::Connecting,
        vec![
            (
                0,
                LinkSignal::Refused { code: 409 },
                &["status:link_failed", "stop", "pause:not_connected"],
            ),
            (1, disconnected(true), &[]),
        ],
    );
    assert!(matches!(
        machine.status(),
        AccountStatus::LinkFailed { reason } if reason.contains("code 409")
    ));
}

/// The library keeps rotating QR codes while the person types the pairing
/// code: they neither hide the code nor end the attempt (at about 160 s)
/// while it is valid (180 s); WhatsApp's refresh asks for a new code; once
/// the code has expired, the exhausted QR codes end the attempt as usual.
#[test]
fn a_pairing_code_survives_the_qr_rotation_and_is_refreshed() {
    let code = |code: &str| LinkSignal::PairCode {
        code: code.into(),
        valid_for_ms: 180_000,
    };
    let machine = run(
        AccountStatus::Unlinked,
        vec![
            (0, LinkSignal::LinkStarted, &["status:connecting"]),
            (400, qr("A", 60_000), &["status:awaiting_qr", "qr:A@60400"]),
            (500, code("ABCD-EFGH"), &["status:awaiting_pair_code"]),
            (60_400, qr("B", 20_000), &[]),
            (160_000, LinkSignal::QrCodesExhausted, &[]),
            (
                170_000,
                LinkSignal::PairCodeRefresh,
                &["status:connecting", "request_pair_code"],
            ),
            (171_000, code("WXYZ-1234"), &["status:awaiting_pair_code"]),
            (
                400_000,
                LinkSignal::QrCodesExhausted,
                &["status:link_failed", "stop"],
            ),
        ],
    );
    assert!(matches!(machine.status(), AccountStatus::LinkFailed { .. }));
}

#[test]
fn a_link_given_up_before_the_phone_accepts_it_is_unlinked_and_one_accepted_is_not_undone() {
    let ready = run(
        AccountStatus::Unlinked,
        vec![
            (0, LinkSignal::LinkStarted, &["status:connecting"]),
            (
                100,
                qr("2@a", 60_000),
                &["status:awaiting_qr", "qr:2@a@60100"],
            ),
            (
                200,
                LinkSignal::LinkCancelled,
                &["status:unlinked", "stop", "forget"],
            ),
            // The stopped client's last words change nothing.
            (300, disconnected(true), &[]),
            (400, LinkSignal::LinkCancelled, &[]),
        ],
    );
    assert_eq!(ready.status(), &AccountStatus::Unlinked);

    // Scanned just before "Cancel": the link stands.
    let linked = run(
        AccountStatus::Unlinked,
        vec![
            (0, LinkSignal::LinkStarted, &["status:connecting"]),
            (
                100,
                LinkSignal::PairSuccess {
                    phone: Some("+6281234567890".into()),
                },
                &["status:connecting", "linked:+6281234567890"],
            ),
            (200, LinkSignal::LinkCancelled, &[]),
        ],
    );
    assert_eq!(linked.status(), &AccountStatus::Connecting);

    // A code left on record by an app that closed mid-link can be given up.
    run(
        AccountStatus::AwaitingQr {
            expires_at_ms: 5,
            shown: 1,
        },
        vec![(
            10,
            LinkSignal::LinkCancelled,
            &["status:unlinked", "stop", "forget"],
        )],
    );
    // A connected account is not "cancelled".
    run(
        AccountStatus::Connected,
        vec![(0, LinkSignal::LinkCancelled, &[])],
    );
}
