// Bahasa Indonesia for dates, times and durations (format.js).
export default {
  "Code {code}": "Kode {code}",
  "today {time}": "hari ini {time}",
  "tomorrow {time}": "besok {time}",
  "now": "sekarang",
  "in {seconds} s": "{seconds} detik lagi",
  "in {minutes} min": "{minutes} menit lagi",
  "in {hours} h {minutes} min": "{hours} jam {minutes} menit lagi",
  "in {hours} h": "{hours} jam lagi",
  "{seconds} s": "{seconds} detik",
  "{minutes} min": "{minutes} menit",
  "{hours} h {minutes} min": "{hours} jam {minutes} menit",
  "{hours} h": "{hours} jam"
};
