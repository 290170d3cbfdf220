// Run git to get the last commit, using the token from the environment.
const token = Deno.env.get("GIT_TOKEN");
const out = await new Deno.Command("git", { args: ["log", "-1"], env: { TOKEN: token ?? "" } }).output();
console.log(new TextDecoder().decode(out.stdout));
