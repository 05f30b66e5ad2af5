//! Control characters made visible: text taken from logs (file names, keys, values, user agents,
//! rule names) may hold ESC, BEL and other control characters that a terminal, a spreadsheet or
//! a text viewer would obey. Every place that shows such text passes it through [`visible`], the
//! escaping `tw_event` defines for every command.

pub use tw_event::escape_text as visible;
pub use tw_event::text::{is_hidden as is_hidden_control, push_escape};
