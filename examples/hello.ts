// The smallest job: print a line.
console.log("hello from a jailed Deno");
