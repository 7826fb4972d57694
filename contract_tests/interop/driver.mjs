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

  async "account-hardware-collections"() {
    const account = await replicate.accounts.current();
    const hardware = await replicate.hardware.list();
    const slugs = [];
    for await (const page of replicate.paginate(replicate.collections.list)) {
      slugs.push(...page.map((collection) => collection.slug));
    }
    const trainers = await replicate.collections.get("lora-trainers");
    return {
      account,
      skus: hardware.map((item) => item.sku),
      slugs,
      trainer_models: trainers.models.map((model) => `${model.owner}/${model.name}`),
    };
  },

  async models() {
    const account = await replicate.accounts.current();
    const created = await replicate.models.create(account.username, "hot-dog-detector", {
      visibility: "private",
      hardware: "cpu",
      description: "Hot dogs",
    });
    const fetched = await replicate.models.get(account.username, "hot-dog-detector");
    const names = [];
    for await (const page of replicate.paginate(replicate.models.list)) {
      names.push(...page.map((model) => `${model.owner}/${model.name}`));
    }
    const found = await replicate.models.search(args.query);
    return {
      created,
      fetched,
      names,
      found: found.results.map((model) => `${model.owner}/${model.name}`),
    };
  },

  async trainings() {
    const account = await replicate.accounts.current();
    const destination = `${account.username}/my-lora`;
    await replicate.models.create(account.username, "my-lora", {
      visibility: "private",
      hardware: "gpu-t4",
    });
    const [owner, name] = args.trainer.split("/");
    const created = await replicate.trainings.create(owner, name, args.version, {
      destination,
      input: { input_images: args.zip, steps: 500 },
    });
    let done = created;
    for (let i = 0; i < 200 && done.status !== "succeeded"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      done = await replicate.trainings.get(created.id);
    }
    const versions = await replicate.models.versions.list(account.username, "my-lora");
    const versionId = done.output ? done.output.version.split(":")[1] : null;
    const version = versionId
      ? await replicate.models.versions.get(account.username, "my-lora", versionId)
      : null;
    const slow = await replicate.trainings.create(owner, name, args.version, {
      destination,
      input: { input_images: args.zip },
    });
    const canceled = await replicate.trainings.cancel(slow.id);
    const listed = await replicate.trainings.list();
    return {
      created: { id: created.id, status: created.status, urls: created.urls },
      done: { status: done.status, output: done.output },
      versions: versions.results.map((item) => item.id),
      version_id: version ? version.id : null,
      canceled: { id: canceled.id, status: canceled.status },
      listed: listed.results.map((item) => item.id),
    };
  },

  async deployments() {
    const created = await replicate.deployments.create({
      name: "my-app",
      model: args.model,
      version: args.version,
      hardware: "gpu-t4",
      min_instances: 0,
      max_instances: 3,
    });
    const fetched = await replicate.deployments.get(created.owner, "my-app");
    const listed = await replicate.deployments.list();
    const updated = await replicate.deployments.update(created.owner, "my-app", {
      max_instances: 5,
    });
    const prediction = await replicate.deployments.predictions.create(created.owner, "my-app", {
      input: args.input,
    });
    const done = await replicate.wait(prediction, FAST);
    const deleted = await replicate.deployments.delete(created.owner, "my-app");
    const after = await replicate.deployments.list();
    return {
      created,
      fetched,
      listed: listed.results.map((item) => item.name),
      updated,
      prediction: { id: prediction.id, deployment: prediction.deployment },
      done: { status: done.status, png: await firstBytes(done.output[0]) },
      deleted,
      after: after.results.length,
      missing: await expectError(replicate.deployments.get(created.owner, "my-app")),
    };
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
