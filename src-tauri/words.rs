//! The shell's own words (tray menu, tooltip, notifications), in the
//! window's language: English or Bahasa Indonesia.
//!
//! The language is the person's choice in Settings, else the system's: the
//! POSIX locale variables where the environment has them (Linux), else the
//! language the window last found from the web view (Windows, macOS), else
//! English.

use blastdesk_core::Store;

/// The settings key of the chosen language ("en" or "id"; absent: the system's).
pub const LANGUAGE: &str = "ui_language";
/// The language the window last resolved "the system's" to.
pub const SEEN: &str = "ui_language_seen";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Id,
}

impl Lang {
    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "en" => Some(Lang::En),
            "id" => Some(Lang::Id),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Id => "id",
        }
    }

    /// The language to speak in now.
    pub fn of(store: &Store) -> Lang {
        let setting = |key| store.setting_text(key).ok().flatten();
        setting(LANGUAGE)
            .and_then(|code| Lang::from_code(&code))
            .or_else(|| system(|key| std::env::var(key).ok()))
            .or_else(|| setting(SEEN).and_then(|code| Lang::from_code(&code)))
            .unwrap_or(Lang::En)
    }
}

/// The translated language the POSIX locale variables ask for, in their order
/// of precedence (LANGUAGE's list, then LC_ALL, LC_MESSAGES, LANG).
pub fn system(var: impl Fn(&str) -> Option<String>) -> Option<Lang> {
    let mut wanted: Vec<String> = var("LANGUAGE")
        .map(|list| list.split(':').map(str::to_owned).collect())
        .unwrap_or_default();
    wanted.extend(
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|k| var(k)),
    );
    wanted.iter().find_map(|tag| {
        let base = tag.split(['_', '-', '.', '@']).next()?.to_ascii_lowercase();
        match base.as_str() {
            "id" | "in" | "ms" => Some(Lang::Id),
            "en" => Some(Lang::En),
            _ => None,
        }
    })
}

/// Everything the shell says, each with what it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Words<'a> {
    OpenBlastdesk,
    QuitBlastdesk,
    AllAccountsFine,
    NeedsAttention {
        name: &'a str,
    },
    AccountsNeedAttention {
        count: usize,
        names: &'a str,
    },
    NothingScheduled,
    NextRun {
        name: &'a str,
        when: &'a str,
    },
    /// A tooltip line: "Promo: 120 of 500 done".
    Progress {
        name: &'a str,
        done: u64,
        total: u64,
    },
    BlastComplete {
        name: &'a str,
    },
    Outcomes {
        sent: u64,
        failed: u64,
        skipped: u64,
    },
    BlastPaused {
        name: &'a str,
    },
    NeedsDecision {
        name: &'a str,
    },
    MaybeSent {
        unknown: u64,
    },
    ScheduleStarted {
        name: &'a str,
    },
    ScheduledBlastSending,
    ScheduleSkipped {
        name: &'a str,
    },
    ScheduleMissed {
        name: &'a str,
    },
    MissedBecauseNotRunning,
    CustomerOptedOut,
    OptedOut {
        phone: &'a str,
        word: &'a str,
    },
    /// The tray's update line while nothing is offered.
    NoUpdateWaiting,
    UpdateAvailable {
        version: &'a str,
    },
    /// An update the feed marks as important (WhatsApp changed).
    ImportantUpdate {
        version: &'a str,
    },
    UpdateInstalling {
        version: &'a str,
    },
}

impl Words<'_> {
    pub fn text(&self, lang: Lang) -> String {
        use Lang::{En, Id};
        match (self, lang) {
            (Words::NoUpdateWaiting, En) => "No update waiting".into(),
            (Words::NoUpdateWaiting, Id) => "Tidak ada pembaruan".into(),
            (Words::UpdateAvailable { version }, En) => {
                format!("Update available: Blastdesk {version}")
            }
            (Words::UpdateAvailable { version }, Id) => {
                format!("Pembaruan tersedia: Blastdesk {version}")
            }
            (Words::ImportantUpdate { version }, En) => {
                format!("Important update: Blastdesk {version}")
            }
            (Words::ImportantUpdate { version }, Id) => {
                format!("Pembaruan penting: Blastdesk {version}")
            }
            (Words::UpdateInstalling { version }, En) => {
                format!("Installing Blastdesk {version}…")
            }
            (Words::UpdateInstalling { version }, Id) => {
                format!("Memasang Blastdesk {version}…")
            }
            (Words::OpenBlastdesk, En) => "Open Blastdesk".into(),
            (Words::OpenBlastdesk, Id) => "Buka Blastdesk".into(),
            (Words::QuitBlastdesk, En) => "Quit Blastdesk".into(),
            (Words::QuitBlastdesk, Id) => "Keluar dari Blastdesk".into(),
            (Words::AllAccountsFine, En) => "Every account is fine".into(),
            (Words::AllAccountsFine, Id) => "Semua akun baik-baik saja".into(),
            (Words::NeedsAttention { name }, En) => format!("{name} needs attention"),
            (Words::NeedsAttention { name }, Id) => format!("{name} perlu perhatian"),
            (Words::AccountsNeedAttention { count, names }, En) => {
                format!("{count} accounts need attention: {names}")
            }
            (Words::AccountsNeedAttention { count, names }, Id) => {
                format!("{count} akun perlu perhatian: {names}")
            }
            (Words::NothingScheduled, En) => "Nothing scheduled".into(),
            (Words::NothingScheduled, Id) => "Belum ada jadwal".into(),
            (Words::NextRun { name, when }, En) => format!("Next: {name}, {when}"),
            (Words::NextRun { name, when }, Id) => format!("Berikutnya: {name}, {when}"),
            (Words::Progress { name, done, total }, En) => {
                format!("{name}: {done} of {total} done")
            }
            (Words::Progress { name, done, total }, Id) => {
                format!("{name}: {done} dari {total} selesai")
            }
            (Words::BlastComplete { name }, En) => format!("{name} is complete"),
            (Words::BlastComplete { name }, Id) => format!("{name} selesai"),
            (Words::Outcomes { sent, failed, skipped }, En) => {
                format!("{sent} sent, {failed} failed, {skipped} skipped.")
            }
            (Words::Outcomes { sent, failed, skipped }, Id) => {
                format!("{sent} terkirim, {failed} gagal, {skipped} dilewati.")
            }
            (Words::BlastPaused { name }, En) => format!("{name} paused"),
            (Words::BlastPaused { name }, Id) => format!("{name} dihentikan sementara"),
            (Words::NeedsDecision { name }, En) => format!("{name} needs your decision"),
            (Words::NeedsDecision { name }, Id) => format!("{name} perlu keputusan Anda"),
            (Words::MaybeSent { unknown: 1 }, En) => {
                "1 message may or may not have gone out.".into()
            }
            (Words::MaybeSent { unknown }, En) => {
                format!("{unknown} messages may or may not have gone out.")
            }
            (Words::MaybeSent { unknown }, Id) => {
                format!("{unknown} pesan mungkin sudah atau belum terkirim.")
            }
            (Words::ScheduleStarted { name }, En) => format!("{name} started"),
            (Words::ScheduleStarted { name }, Id) => format!("{name} dimulai"),
            (Words::ScheduledBlastSending, En) => "The scheduled blast is sending.".into(),
            (Words::ScheduledBlastSending, Id) => "Blast terjadwal sedang dikirim.".into(),
            (Words::ScheduleSkipped { name }, En) => format!("{name} was skipped"),
            (Words::ScheduleSkipped { name }, Id) => format!("{name} dilewati"),
            (Words::ScheduleMissed { name }, En) => format!("{name} was missed"),
            (Words::ScheduleMissed { name }, Id) => format!("{name} terlewat"),
            (Words::MissedBecauseNotRunning, En) => {
                "Blastdesk was not running when it was due; it will run at its next time.".into()
            }
            (Words::MissedBecauseNotRunning, Id) => {
                "Blastdesk tidak berjalan saat jadwalnya tiba; blast akan berjalan pada jadwal berikutnya.".into()
            }
            (Words::CustomerOptedOut, En) => "A customer opted out".into(),
            (Words::CustomerOptedOut, Id) => "Seorang pelanggan berhenti berlangganan".into(),
            (Words::OptedOut { phone, word }, En) => {
                format!("{phone} replied \"{word}\" and will not receive blasts any more.")
            }
            (Words::OptedOut { phone, word }, Id) => {
                format!("{phone} membalas \"{word}\" dan tidak akan menerima blast lagi.")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_language_comes_from_the_locale_variables_in_order() {
        type Vars = &'static [(&'static str, &'static str)];
        let cases: [(Vars, Option<Lang>); 7] = [
            (&[("LANG", "id_ID.UTF-8")], Some(Lang::Id)),
            (&[("LANG", "en_US.UTF-8")], Some(Lang::En)),
            (&[("LANG", "de_DE.UTF-8")], None),
            (&[("LANG", "C.UTF-8")], None),
            (
                &[("LANGUAGE", "fr:id"), ("LANG", "en_GB.UTF-8")],
                Some(Lang::Id),
            ),
            (
                &[("LC_ALL", "ms_MY.UTF-8"), ("LANG", "en_GB.UTF-8")],
                Some(Lang::Id),
            ),
            (&[], None),
        ];
        for (vars, expected) in cases {
            let found = system(|key| {
                vars.iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| (*v).to_owned())
            });
            assert_eq!(found, expected, "{vars:?}");
        }
    }

    #[test]
    fn the_chosen_language_wins_then_the_system_then_the_last_seen()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let store = Store::open_in(dir.path())?;
        let system = system(|key| std::env::var(key).ok());
        assert_eq!(Lang::of(&store), system.unwrap_or(Lang::En));
        store.set_setting_text(SEEN, Some("id"), 0)?;
        assert_eq!(Lang::of(&store), system.unwrap_or(Lang::Id));
        store.set_setting_text(LANGUAGE, Some("en"), 0)?;
        assert_eq!(Lang::of(&store), Lang::En);
        store.set_setting_text(LANGUAGE, Some("id"), 0)?;
        assert_eq!(Lang::of(&store), Lang::Id);
        Ok(())
    }

    #[test]
    fn every_text_reads_in_both_languages() {
        let all = [
            Words::OpenBlastdesk,
            Words::QuitBlastdesk,
            Words::AllAccountsFine,
            Words::NeedsAttention { name: "Toko" },
            Words::AccountsNeedAttention {
                count: 2,
                names: "Toko, Cabang",
            },
            Words::NothingScheduled,
            Words::NextRun {
                name: "Promo",
                when: "Mon 01 Dec 09:00",
            },
            Words::Progress {
                name: "Promo",
                done: 120,
                total: 500,
            },
            Words::BlastComplete { name: "Promo" },
            Words::Outcomes {
                sent: 5,
                failed: 1,
                skipped: 2,
            },
            Words::BlastPaused { name: "Promo" },
            Words::NeedsDecision { name: "Promo" },
            Words::MaybeSent { unknown: 3 },
            Words::ScheduleStarted { name: "Senin" },
            Words::ScheduledBlastSending,
            Words::ScheduleSkipped { name: "Senin" },
            Words::ScheduleMissed { name: "Senin" },
            Words::MissedBecauseNotRunning,
            Words::CustomerOptedOut,
            Words::OptedOut {
                phone: "+6281200000101",
                word: "STOP",
            },
            Words::NoUpdateWaiting,
            Words::UpdateAvailable { version: "500" },
            Words::ImportantUpdate { version: "500" },
            Words::UpdateInstalling { version: "500" },
        ];
        for words in &all {
            let (en, id) = (words.text(Lang::En), words.text(Lang::Id));
            assert!(!en.is_empty() && !id.is_empty(), "{words:?}");
            // Names and numbers carried in are in both.
            for piece in [
                "Toko",
                "Promo",
                "Senin",
                "120",
                "500",
                "+6281200000101",
                "STOP",
            ] {
                assert_eq!(
                    en.contains(piece),
                    id.contains(piece),
                    "{words:?}: {en} / {id}"
                );
            }
        }
        assert_eq!(
            Words::Progress {
                name: "Promo",
                done: 120,
                total: 500
            }
            .text(Lang::Id),
            "Promo: 120 dari 500 selesai"
        );
        for (unknown, en) in [
            (1, "1 message may or may not have gone out."),
            (2, "2 messages may or may not have gone out."),
        ] {
            assert_eq!(Words::MaybeSent { unknown }.text(Lang::En), en);
        }
    }
}
