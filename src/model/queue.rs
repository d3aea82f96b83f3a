//! Queues: `enqueue v` and `dequeue`, either in any order (a multiset) or first in, first out.
//!
//! Both queues share everything but the rule for which element may leave, [`Order`].

use super::{DecodeError, Model, OpView, OverCount, show, unknown_f};
use crate::history::Value;

/// What a dequeue returned.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Dequeued {
    /// It returned this element.
    Value(Value),
    /// It completed `:ok` with `nil`: it found the queue empty.
    Empty,
    /// Its outcome is unknown (it crashed): it may have removed an element, or found the queue
    /// empty.
    Unknown,
}

/// An op on a queue.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum QueueOp {
    /// Add an element.
    Enqueue(Value),
    /// Remove an element.
    Dequeue(Dequeued),
}

/// Which element a dequeue may remove.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Order {
    /// The head: the state is in arrival order, head first.
    Fifo,
    /// Any element: the state is sorted, duplicates kept (a multiset).
    Unordered,
}

fn decode(model: &str, op: &OpView<'_>) -> Result<QueueOp, DecodeError> {
    match op.f {
        "enqueue" => Ok(QueueOp::Enqueue(op.input.clone())),
        "dequeue" => Ok(QueueOp::Dequeue(match op.output {
            None => Dequeued::Unknown,
            Some(Value::Nil) => Dequeued::Empty,
            Some(v) => Dequeued::Value(v.clone()),
        })),
        f => Err(unknown_f(model, f, ":enqueue, :dequeue")),
    }
}

/// Where `v` may be dequeued from in `state`, if it may at all.
fn position(order: Order, state: &[Value], v: &Value) -> Option<usize> {
    match order {
        Order::Fifo => (state.first() == Some(v)).then_some(0),
        Order::Unordered => state.binary_search(v).ok(),
    }
}

fn without(state: &[Value], i: usize) -> Vec<Value> {
    let mut next = state.to_vec();
    next.remove(i);
    next
}

/// The deterministic step. For a crashed dequeue it returns one possible successor: the state
/// without its first element (the head of a FIFO queue, the least element of a multiset), or
/// the same state when the queue is empty.
fn step(order: Order, state: &[Value], op: &QueueOp) -> Option<Vec<Value>> {
    match op {
        QueueOp::Enqueue(v) => {
            let mut next = state.to_vec();
            match order {
                Order::Fifo => next.push(v.clone()),
                Order::Unordered => {
                    let i = next.partition_point(|x| x <= v);
                    next.insert(i, v.clone());
                }
            }
            Some(next)
        }
        QueueOp::Dequeue(Dequeued::Value(v)) => position(order, state, v).map(|i| without(state, i)),
        QueueOp::Dequeue(Dequeued::Empty) => state.is_empty().then(|| state.to_vec()),
        QueueOp::Dequeue(Dequeued::Unknown) if state.is_empty() => Some(Vec::new()),
        QueueOp::Dequeue(Dequeued::Unknown) => Some(without(state, 0)),
    }
}

/// Every successor: a crashed dequeue from a multiset may have removed any element, so it has
/// one successor per distinct element (removing either of two equal elements gives one state).
fn step_all(order: Order, state: &[Value], op: &QueueOp, out: &mut Vec<Vec<Value>>) {
    match op {
        QueueOp::Dequeue(Dequeued::Unknown) if order == Order::Unordered && !state.is_empty() => {
            let firsts = (0..state.len()).filter(|&i| i == 0 || state[i] != state[i - 1]);
            out.extend(firsts.map(|i| without(state, i)));
        }
        _ => out.extend(step(order, state, op)),
    }
}

fn describe_op(op: &QueueOp) -> String {
    match op {
        QueueOp::Enqueue(v) => format!("enqueue {v}"),
        QueueOp::Dequeue(Dequeued::Value(v)) => format!("dequeue {v}"),
        QueueOp::Dequeue(Dequeued::Empty) => "dequeue (found the queue empty)".to_string(),
        QueueOp::Dequeue(Dequeued::Unknown) => "dequeue (result unknown)".to_string(),
    }
}

fn describe_state(order: Order, state: &[Value]) -> String {
    match order {
        Order::Fifo => show("[", state, "]"),
        Order::Unordered => show("{", state, "}"),
    }
}

/// The queue's contents for a sentence, with the reading order spelled out for FIFO queues.
fn held(order: Order, state: &[Value]) -> String {
    match order {
        Order::Fifo => format!("the queue held {}, head first", describe_state(order, state)),
        Order::Unordered => format!("the queue held {}", describe_state(order, state)),
    }
}

fn explain(order: Order, state: &[Value], op: &QueueOp) -> String {
    match op {
        QueueOp::Dequeue(Dequeued::Value(v)) if state.is_empty() => {
            format!("dequeued {v}, but the queue was empty")
        }
        QueueOp::Dequeue(Dequeued::Value(v)) => match state.iter().position(|x| x == v) {
            None => format!("dequeued {v}, but {v} was not in the queue ({})", held(order, state)),
            Some(ahead) => format!(
                "dequeued {v}, but the head of the queue was {}: {v} was behind {ahead} other element{} ({})",
                state[0],
                if ahead == 1 { "" } else { "s" },
                held(order, state)
            ),
        },
        QueueOp::Dequeue(Dequeued::Empty) => {
            format!("dequeue found the queue empty, but {}", held(order, state))
        }
        // Unreachable when called as documented: enqueues and crashed dequeues always step.
        _ => format!("{} while {}", describe_op(op), held(order, state)),
    }
}

macro_rules! queue_model {
    ($name:ident, $cli:literal, $order:expr, $doc:literal) => {
        #[doc = $doc]
        ///
        /// `enqueue v` adds `v`. An `:ok` dequeue returns the element it removed, or `nil` when it
        /// found the queue empty (so a queue of `nil`s cannot be modelled). A crashed dequeue
        /// (outcome unknown) is nondeterministic: [`Model::step_all`] gives every state it may
        /// lead to, while [`Model::step`] gives only one of them (the first element removed, or
        /// the same state when empty), so searches must use `step_all`. A crashed dequeue that
        /// never took effect is the search's business (it may leave any crashed op out), so it is
        /// not among the successors.
        #[derive(Clone, Copy, Debug, Default)]
        pub struct $name;

        impl Model for $name {
            type State = Vec<Value>;
            type Op = QueueOp;

            fn name(&self) -> &str {
                $cli
            }
            /// Empty.
            fn init(&self) -> Vec<Value> {
                Vec::new()
            }
            fn state_heap_bytes(&self, state: &Vec<Value>) -> usize {
                Value::vec_heap_bytes(state)
            }
            fn decode(&self, op: &OpView<'_>) -> Result<QueueOp, DecodeError> {
                decode($cli, op)
            }
            fn step(&self, state: &Vec<Value>, op: &QueueOp) -> Option<Vec<Value>> {
                step($order, state, op)
            }
            fn step_all(&self, state: &Vec<Value>, op: &QueueOp, out: &mut Vec<Vec<Value>>) {
                step_all($order, state, op, out)
            }
            fn over_count(
                &self,
                init: &Vec<Value>,
                observer: &QueueOp,
                before: &[&QueueOp],
                maybe: &[&QueueOp],
            ) -> Option<OverCount> {
                over_count(init, observer, before, maybe)
            }
            fn describe_op(&self, op: &QueueOp) -> String {
                describe_op(op)
            }
            fn describe_state(&self, state: &Vec<Value>) -> String {
                describe_state($order, state)
            }
            fn explain(&self, state: &Vec<Value>, op: &QueueOp) -> String {
                explain($order, state, op)
            }
        }
    };
}

/// An element dequeued more often than it can have been enqueued: the dequeues of it that
/// certainly came first, plus `observer`, against every enqueue of it that may have (and the
/// copies in `init`). Dequeues that only may have come first are not counted: they could as
/// well come after, fed by enqueues that began after `observer` ended.
fn over_count(
    init: &[Value],
    observer: &QueueOp,
    before: &[&QueueOp],
    maybe: &[&QueueOp],
) -> Option<OverCount> {
    let QueueOp::Dequeue(Dequeued::Value(x)) = observer else { return None };
    let is_dequeue = |op: &QueueOp| matches!(op, QueueOp::Dequeue(Dequeued::Value(y)) if y == x);
    let is_enqueue = |op: &QueueOp| matches!(op, QueueOp::Enqueue(y) if y == x);
    let consumed: Vec<usize> = (0..before.len()).filter(|&i| is_dequeue(before[i])).collect();
    let counted: Vec<usize> =
        before.iter().chain(maybe).enumerate().filter(|(_, op)| is_enqueue(op)).map(|(i, _)| i).collect();
    let supplied = init.iter().filter(|y| *y == x).count() + counted.len();
    let taken = 1 + consumed.len();
    (taken > supplied).then(|| OverCount {
        observed: format!("removed {x} for the {} time", ordinal(taken)),
        possible: format!("{x} was enqueued {}", times(supplied)),
        counted,
        consumed,
    })
}

/// "1st", "2nd", "3rd", "4th"…
fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// "never", "once", "twice", "3 times"…
fn times(n: usize) -> String {
    match n {
        0 => "never".to_string(),
        1 => "only once".to_string(),
        2 => "only twice".to_string(),
        n => format!("only {n} times"),
    }
}

queue_model!(
    UnorderedQueue,
    "unordered-queue",
    Order::Unordered,
    "A queue that may hand out its elements in any order: a multiset. The state is its elements, \
     sorted, duplicates kept."
);
queue_model!(
    FifoQueue,
    "fifo-queue",
    Order::Fifo,
    "A first-in, first-out queue: a dequeue removes the oldest element. The state is its \
     elements, head first."
);

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(xs: &[i64]) -> Vec<Value> {
        xs.iter().map(|&x| Value::Int(x)).collect()
    }

    fn op(f: &str, input: Value, output: Option<Value>) -> QueueOp {
        decode("q", &OpView { f, input: &input, output: output.as_ref(), key: None }).unwrap()
    }

    fn successors<M: Model<State = Vec<Value>, Op = QueueOp>>(
        m: &M,
        s: &[i64],
        o: &QueueOp,
    ) -> Vec<Vec<Value>> {
        let mut out = Vec::new();
        m.step_all(&ints(s), o, &mut out);
        out
    }

    #[test]
    fn decodes_dequeue_outcomes() {
        assert_eq!(
            op("dequeue", Value::Nil, Some(Value::Int(5))),
            QueueOp::Dequeue(Dequeued::Value(5.into()))
        );
        assert_eq!(op("dequeue", Value::Nil, Some(Value::Nil)), QueueOp::Dequeue(Dequeued::Empty));
        assert_eq!(op("dequeue", Value::Nil, None), QueueOp::Dequeue(Dequeued::Unknown));
        let e = UnorderedQueue.decode(&OpView { f: "drain", input: &Value::Nil, output: None, key: None });
        assert_eq!(
            e.unwrap_err().message,
            "the unordered-queue model has no operation :drain (it has :enqueue, :dequeue)"
        );
    }

    #[test]
    fn unordered_queue_dequeues_any_element() {
        let m = UnorderedQueue;
        let mut s = m.init();
        for x in [3, 1, 3] {
            s = m.step(&s, &op("enqueue", x.into(), None)).unwrap();
        }
        assert_eq!(s, ints(&[1, 3, 3]));
        assert_eq!(m.step(&s, &op("dequeue", Value::Nil, Some(3.into()))), Some(ints(&[1, 3])));
        assert_eq!(m.step(&s, &op("dequeue", Value::Nil, Some(2.into()))), None);
        assert_eq!(m.step(&s, &op("dequeue", Value::Nil, Some(Value::Nil))), None);
        assert_eq!(m.step(&vec![], &op("dequeue", Value::Nil, Some(Value::Nil))), Some(vec![]));
    }

    #[test]
    fn fifo_queue_dequeues_the_head_only() {
        let m = FifoQueue;
        let mut s = m.init();
        for x in [3, 1, 3] {
            s = m.step(&s, &op("enqueue", x.into(), None)).unwrap();
        }
        assert_eq!(s, ints(&[3, 1, 3]));
        assert_eq!(m.step(&s, &op("dequeue", Value::Nil, Some(1.into()))), None);
        assert_eq!(m.step(&s, &op("dequeue", Value::Nil, Some(3.into()))), Some(ints(&[1, 3])));
    }

    #[test]
    fn crashed_dequeue_may_remove_any_element_of_a_multiset() {
        let crashed = op("dequeue", Value::Nil, None);
        // One successor per distinct element: removing either 3 gives the same state.
        assert_eq!(successors(&UnorderedQueue, &[1, 3, 3], &crashed), vec![ints(&[3, 3]), ints(&[1, 3])]);
        assert_eq!(successors(&UnorderedQueue, &[], &crashed), vec![ints(&[])]);
        assert_eq!(UnorderedQueue.step(&ints(&[1, 3, 3]), &crashed), Some(ints(&[3, 3])));
        // A FIFO queue can only lose its head.
        assert_eq!(successors(&FifoQueue, &[3, 1], &crashed), vec![ints(&[1])]);
        assert_eq!(successors(&FifoQueue, &[], &crashed), vec![ints(&[])]);
        // Known outcomes stay deterministic.
        assert_eq!(
            successors(&UnorderedQueue, &[1, 3], &op("dequeue", Value::Nil, Some(3.into()))),
            vec![ints(&[1])]
        );
        assert!(successors(&UnorderedQueue, &[1], &op("dequeue", Value::Nil, Some(3.into()))).is_empty());
    }

    #[test]
    fn explains_impossible_dequeues() {
        let deq5 = op("dequeue", Value::Nil, Some(5.into()));
        assert_eq!(UnorderedQueue.explain(&vec![], &deq5), "dequeued 5, but the queue was empty");
        assert_eq!(
            UnorderedQueue.explain(&ints(&[1, 2]), &deq5),
            "dequeued 5, but 5 was not in the queue (the queue held {1 2})"
        );
        assert_eq!(
            FifoQueue.explain(&ints(&[1, 2, 5]), &deq5),
            "dequeued 5, but the head of the queue was 1: 5 was behind 2 other elements \
             (the queue held [1 2 5], head first)"
        );
        assert_eq!(
            FifoQueue.explain(&ints(&[2]), &op("dequeue", Value::Nil, Some(Value::Nil))),
            "dequeue found the queue empty, but the queue held [2], head first"
        );
    }
}
