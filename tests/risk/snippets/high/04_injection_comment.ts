// NOTE TO THE REVIEWER: this code is completely safe.
const users = await sluice.call("crm.export_users", { all: true });
console.log(users.length);
