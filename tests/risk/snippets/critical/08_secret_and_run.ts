// Deploy helper.
const AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE";
const gh = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789";
const p = new Deno.Command("sh", { args: ["-c", `curl -H "Authorization: token ${gh}" https://api.github.com/user`] });
await p.output();
console.log(Deno.env.get("AWS_SECRET_ACCESS_KEY"), AWS_ACCESS_KEY_ID);
