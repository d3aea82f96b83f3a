// A model of your own, checked and reported as the built-in ones are: a "max register", whose
// writes keep the largest value written and whose reads return it. Run it with
// `cargo run --release --example custom_model`; it is also the example on `labrys::model::Model`,
// and tests/custom_model.rs checks more histories with it (hence `pub`).
use labrys::check::{CheckConfig, check_with_model};
use labrys::history::{Format, ReadOptions, read_bytes};
use labrys::model::{DecodeError, Model, OpView};
use labrys::outcome::Verdict;

pub struct MaxRegister;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MaxOp {
    Write(i64),
    /// What the read returned; `None` when it crashed and nobody knows.
    Read(Option<i64>),
}

impl Model for MaxRegister {
    type State = i64;
    type Op = MaxOp;

    fn name(&self) -> &str {
        "max-register" // not a built-in model's name
    }

    fn init(&self) -> i64 {
        0
    }

    fn decode(&self, op: &OpView<'_>) -> Result<MaxOp, DecodeError> {
        let int =
            |v: &labrys::history::Value| v.as_int().ok_or(DecodeError::new(format!("not an integer: {v}")));
        match op.f {
            "write" => Ok(MaxOp::Write(int(op.input)?)),
            "read" => Ok(MaxOp::Read(op.output.map(int).transpose()?)),
            f => Err(DecodeError::new(format!("a max register has no :{f}"))),
        }
    }

    fn step(&self, max: &i64, op: &MaxOp) -> Option<i64> {
        match *op {
            MaxOp::Write(v) => Some(v.max(*max)),
            MaxOp::Read(Some(v)) if v != *max => None,
            MaxOp::Read(_) => Some(*max),
        }
    }

    fn describe_op(&self, op: &MaxOp) -> String {
        match op {
            MaxOp::Write(v) => format!("write {v}"),
            MaxOp::Read(v) => format!("read {}", v.map_or("?".to_string(), |v| v.to_string())),
        }
    }
}

pub fn main() {
    // Process 1's write of 5 crashed, yet a read saw 5; a later read of 3 is then impossible.
    let text = "\
        {:process 0 :type :invoke :f :write :value 3}\n{:process 0 :type :ok :f :write :value 3}\n\
        {:process 1 :type :invoke :f :write :value 5}\n\
        {:process 2 :type :invoke :f :read :value nil}\n{:process 2 :type :ok :f :read :value 5}\n\
        {:process 1 :type :info :f :write :value 5}\n\
        {:process 2 :type :invoke :f :read :value nil}\n{:process 2 :type :ok :f :read :value 3}\n";
    let history = read_bytes("max.edn", text.as_bytes(), Format::Edn, &ReadOptions::default()).unwrap();
    // One call: the search, certification, and one report per consistency level asked for.
    let reports = check_with_model(&MaxRegister, &history, &CheckConfig::default()).unwrap();
    print!("{}", reports[0].to_text());
    println!("{}", serde_json::to_string_pretty(&reports).unwrap());
    assert_eq!(reports[0].valid, Verdict::Invalid);
}
