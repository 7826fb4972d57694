// Drives the official replicate JavaScript client (npm `replicate`, pinned in package.json)
// against a server given by the environment, one scenario per run:
//
//   INTEROP_BASE_URL=http://127.0.0.1:PORT/v1 INTEROP_TOKEN=... \
//   INTEROP_ARGS='{"version": "..."}' node contract_tests/interop/driver.mjs run-by-version
//
// Prints one JSON document on stdout: {"ok": true, "result": ...} or {"ok": false, "error":
// {"name", "message", "status"}}. The Python tests (test_replicate_js.py) start the mock,
// run this script and check the result; nothing here asserts.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const Replicate = require("replicate");
const { validateWebhook } = Replicate;

const replicate = new Replicate({
  auth: process.env.INTEROP_TOKEN,
  baseUrl: process.env.INTEROP_BASE_URL,
});
const args = JSON.parse(process.env.INTEROP_ARGS || "{}");
const FAST = { interval: 20 };

async function firstBytes(url, count = 8) {
  const response = await fetch(url);
  const bytes = new Uint8Array(await response.arrayBuffer());
  return Buffer.from(bytes.slice(0, count)).toString("hex");
}

async function collectPages(list) {
  const pages = [];
  for await (const page of replicate.paginate(list)) {
    pages.push(page.map((item) => item.id));
  }
  return pages;
}

async function expectError(promise) {
  try {
    await promise;
  } catch (error) {
    return { name: error.name, status: error.response ? error.response.status : null };
  }
  return null;
}

const scenarios = {
  async "run-by-version"() {
    const output = await replicate.run(`${args.model}:${args.version}`, {
      input: args.input,
      wait: { mode: "block", timeout: 10 },
    });
    return { output, png: await firstBytes(output[0]) };
  },

  async "run-by-model"() {
    const output = await replicate.run(args.model, { input: args.input });
    return { output, png: await firstBytes(output[0]) };
  },

  async "run-with-a-file-input"() {
    const image = Buffer.from(args.image_base64, "base64");
    const output = await replicate.run(`${args.model}:${args.version}`, {
      input: { ...args.input, image },
    });
    return { output };
  },

  async lifecycle() {
    const created = await replicate.predictions.create({
      version: args.version,
      input: args.input,
    });
    const fetched = await replicate.predictions.get(created.id);
    const done = await replicate.wait(created, FAST);
    const slow = await replicate.predictions.create({
      version: args.slow_version,
      input: args.input,
    });
    const canceled = await replicate.predictions.cancel(slow.id);
    const byModel = await replicate.predictions.create({
      model: args.path_model,
      input: args.input,
      wait: true,
    });
    return {
      created: { id: created.id, status: created.status, urls: created.urls },
      fetched: { id: fetched.id, status: fetched.status },
      done: { id: done.id, status: done.status, output: done.output },
      canceled: { id: canceled.id, status: canceled.status },
      by_model: { id: byModel.id, status: byModel.status },
      missing: await expectError(replicate.predictions.get("nope")),
    };
  },

  async "list-predictions"() {
    return { pages: await collectPages(replicate.predictions.list) };
  },

  async stream() {
    const events = [];
    for await (const event of replicate.stream(args.model, { input: args.input })) {
      events.push({ event: event.event, data: String(event.data) });
    }
    return { events };
  },

  async files() {
    const blob = new Blob([Buffer.from(args.content, "utf8")], { type: "text/plain" });
    const created = await replicate.files.create(blob, { purpose: "interop" });
    const fetched = await replicate.files.get(created.id);
    const pages = await collectPages(() => replicate.files.list());
    const deleted = await replicate.files.delete(created.id);
    return {
      created,
      fetched,
      pages,
      deleted,
      after_delete: await expectError(replicate.files.get(created.id)),
    };
  },

  async versions() {
    const [owner, name] = args.model.split("/");
    const page = await replicate.models.versions.list(owner, name);
    const version = await replicate.models.versions.get(owner, name, page.results[0].id);
    const model = await replicate.models.get(owner, name);
    return { page, version_id: version.id, latest: model.latest_version.id };
  },

  async "create-with-webhook"() {
    const created = await replicate.predictions.create({
      version: args.version,
      input: args.input,
      webhook: args.webhook,
      webhook_events_filter: ["completed"],
    });
    return { id: created.id };
  },

  async "webhook-secret"() {
    const secret = await replicate.webhooks.default.secret.get();
    const verdicts = [];
    for (const delivery of args.deliveries) {
      verdicts.push(
        await validateWebhook({ headers: delivery.headers, body: delivery.body }, secret.key),
      );
    }
    return { key: secret.key, verdicts };
  },

  async "bad-token"() {
    const other = new Replicate({ auth: "not-the-token", baseUrl: process.env.INTEROP_BASE_URL });
    return { error: await expectError(other.predictions.list()) };
  },
};

const scenario = scenarios[process.argv[2]];
if (!scenario) {
  process.stdout.write(
    JSON.stringify({ ok: false, error: { name: "UsageError", message: `no scenario ${process.argv[2]}` } }),
  );
  process.exit(2);
}
try {
  const result = await scenario();
  process.stdout.write(JSON.stringify({ ok: true, result }));
} catch (error) {
  const status = error.response ? error.response.status : null;
  process.stdout.write(
    JSON.stringify({ ok: false, error: { name: error.name, message: String(error.message), status } }),
  );
  process.exitCode = 1;
}
