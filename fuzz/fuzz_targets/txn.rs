//! Fuzzes the fast transactional reader against the general reader, in EDN and JSON.
#![no_main]

use labrys::history::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    labrys_fuzz::check_txn_reader(data, Format::Edn);
    labrys_fuzz::check_txn_reader(data, Format::Json);
});
