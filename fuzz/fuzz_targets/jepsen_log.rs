//! Fuzzes the jepsen_log reader through `read_bytes`, as the CLI calls it.
#![no_main]

use labrys::history::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| labrys_fuzz::check_reader(data, Format::JepsenLog));
