// Identifiers that merely look dangerous.
const envelope = { to: "ops", subject: "report" };
const evaluator = (x: number) => x * 2;
const model = { evaluate: evaluator, executor: "batch", functionality: "sum" };
const processEnvName = "staging";
const sudoku = [[5, 3, 0], [6, 0, 0]];
const fetched = sudoku.flat().filter((n) => n > 0);
console.log(envelope.subject, model.evaluate(fetched.length), processEnvName);
