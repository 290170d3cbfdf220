// A job that fails: the result is `error` and the exception is in stderr.
function parseConfig(text: string): Record<string, unknown> {
  return JSON.parse(text);
}
parseConfig("{not json");
