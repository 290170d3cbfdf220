// Parse URLs and paths; strings with slashes must not confuse the scanner.
const urls = ["https://example.com/a//b", "http://x.test/c"];
const re = /\/\/([^/]+)\//;
const hosts = urls.map((u) => re.exec(u)?.[1] ?? "?");
const note = "docs say: never call evaluate() on user input";
console.log(hosts, note.length);
