// Labs are data: every file in labs/ matches the schema, its page in docs/labs/ exists, and a bad
// file is refused naming the field.
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { findLab, labCatalogue, labsDir, parseLab } from '#operator/labs/catalogue.ts';
import { projectRoot } from '#platform/paths.ts';

it('every lab file is valid, in program order, with its page', () => {
  const labs = labCatalogue();
  expect(labs.map((l) => l.id)).toEqual(['2.1', '2.2', '2.3', '2.4', '2.5', '2.6', '3.1', '3.2', '3.3', '3.4', '3.5', '3.6', '3.7', 'exam-2', 'exam-3']);
  for (const lab of labs) expect(existsSync(path.join(projectRoot, lab.doc)), lab.doc).toBe(true);
});

it('finds a lab by its own file, without reading the others; one named otherwise through the catalogue', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tps-lab-catalogue-'));
  try {
    copyFileSync(path.join(labsDir, 'lab-2.1.yaml'), path.join(dir, 'lab-2.1.yaml'));
    copyFileSync(path.join(labsDir, 'exam-2.yaml'), path.join(dir, 'exam-2.yaml'));
    copyFileSync(path.join(labsDir, 'lab-3.1.yaml'), path.join(dir, 'renamed.yaml'));
    writeFileSync(path.join(dir, 'lab-9.9.yaml'), 'id: "9.9"\nlevel: 7\n');
    // The broken file is not read for a lab of its own file (a whole catalogue refuses it).
    expect(findLab('2.1', dir)?.title).toBe(findLab('2.1')?.title);
    expect(findLab('exam-2', dir)?.id).toBe('exam-2');
    expect(() => labCatalogue(dir)).toThrow(/labs\/lab-9\.9\.yaml is not a valid lab/);
    expect(() => findLab('3.1', dir)).toThrow(/labs\/lab-9\.9\.yaml is not a valid lab/);
    rmSync(path.join(dir, 'lab-9.9.yaml'));
    expect(findLab('3.1', dir)?.id).toBe('3.1');
    expect(findLab('../lab-2.1', dir)).toBeUndefined();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('refuses a lab file with the field and what is wrong', () => {
  const bad = `id: "x"\ntitle: t\nlevel: 7\nminutes: 10\ndoc: docs/labs/x.md\nobjective: o\ntasks: [a]\ncriteria: [c]\nchecks:\n  - { id: q, title: q, probe: { kind: answer, key: k, truth: nothing }, hints: [h] }\nsolve: [{ do: answer, key: k, from: nothing }]\n`;
  expect(() => parseLab('x.yaml', bad)).toThrow(/labs\/x\.yaml is not a valid lab:\n {2}- level: Too big: expected number to be <=3/);
  const unknownTruth = bad.replace('level: 7', 'level: 2');
  expect(() => parseLab('x.yaml', unknownTruth)).toThrow(/checks\.q: truth "nothing" is not a setup choice/);
});

it('refuses checks that point at the wrong kind of check, and an answer step with no source', () => {
  const lab = (checks: string, solve = '[{ do: submit, type: fast.echo }]') =>
    `id: "x"\ntitle: t\nlevel: 2\nminutes: 10\ndoc: docs/labs/x.md\nobjective: o\ntasks: [a]\ncriteria: [c]\nchecks:\n${checks}\nsolve: ${solve}\n`;
  const ready = '  - { id: up, title: up, probe: { kind: ready }, hints: [h] }';
  const held = '  - { id: later, title: l, probe: { kind: all, of: [{ kind: held, check: up }, { kind: ready }] }, hints: [h] }';
  expect(() => parseLab('x.yaml', lab(`${ready}\n${held}`))).toThrow(/checks\.later: held "up" must name a check with latch: true/);
  expect(() => parseLab('x.yaml', lab(`${ready.replace('probe', 'latch: true, probe')}\n${held}`))).not.toThrow();
  const after = '  - { id: down, title: d, probe: { kind: event, subject: tps.events.autoscaler, after: up, op: ">=", value: 1 }, hints: [h] }';
  expect(() => parseLab('x.yaml', lab(`${ready}\n${after}`))).toThrow(/checks\.down: after "up" must name an event check or a check with latch: true/);
  expect(() => parseLab('x.yaml', lab(`${ready.replace('probe', 'latch: true, probe')}\n${after}`))).not.toThrow();
  const answer = '  - { id: q, title: q, probe: { kind: answer, key: cause, accept: [workers] }, hints: [h] }';
  expect(() => parseLab('x.yaml', lab(answer, '[{ do: answer, key: cause }]'))).toThrow(/solve: answer cause needs either from \(a setup choice\) or value/);
  expect(() => parseLab('x.yaml', lab(answer.replace('accept: [workers]', 'truth: t, accept: [workers]')))).toThrow(/an answer check has either truth/);
});

it('refuses setup jobs of an unknown type and dead letters with a code outside the failure catalogue', () => {
  const lab = (setup: string) =>
    `id: "x"\ntitle: t\nlevel: 2\nminutes: 10\ndoc: docs/labs/x.md\nobjective: o\ntasks: [a]\ncriteria: [c]\nsetup:\n${setup}\nchecks:\n  - { id: up, title: up, probe: { kind: ready }, hints: [h] }\nsolve: [{ do: submit, type: fast.echo }]\n`;
  const dead = (type: string, code: string) => `  deadLetters: [{ type: ${type}, count: 3, code: ${code}, message: m }]`;
  expect(() => parseLab('x.yaml', lab(dead('slow.report', 'DOWNSTREAM_FAILED')))).not.toThrow();
  expect(() => parseLab('x.yaml', lab(dead('slow.report', 'OOPS')))).toThrow(/setup\.deadLetters\.0\.code: a code of the failure catalogue/);
  expect(() => parseLab('x.yaml', lab(dead('slow.nope', 'TIMEOUT')))).toThrow(/setup: deadLetters type "slow\.nope" is not a job type/);
  expect(() => parseLab('x.yaml', lab('  submit: [{ type: fast.nope, count: 1 }]'))).toThrow(/setup: submit type "fast\.nope" is not a job type/);
});

it('refuses an exam day whose failure is not a fault of the catalogue, begins after the day, or is named wrongly', () => {
  const lab = (failure: string, since = 'slow') =>
    `id: "x"\ntitle: t\nlevel: 3\nminutes: 10\ndoc: docs/labs/x.md\nobjective: o\ntasks: [a]\ncriteria: [c]\nsetup:\n  timeline:\n    load: { rate: 10 }\n    length: 2h\n    detectWithin: 15m\n    failures:\n      - ${failure}\n` +
    `checks:\n  - { id: fix, title: f, probe: { kind: event, subject: tps.events.config.set, since: ${since}, op: ">=", value: 1 }, hints: [h] }\nsolve: [{ do: wait-failure, failure: slow, seconds: 10 }]\n`;
  const good = '{ id: slow, at: 1h, label: l, target: service-c, fault: latency, params: { ms: 900 } }';
  expect(() => parseLab('x.yaml', lab(good))).not.toThrow();
  expect(() => parseLab('x.yaml', lab(good.replace('ms: 900', 'ms: -1')))).toThrow(/setup\.timeline\.slow: .*ms/);
  expect(() => parseLab('x.yaml', lab(good.replace('fault: latency', 'fault: meteor')))).toThrow(/setup\.timeline\.slow: /);
  expect(() => parseLab('x.yaml', lab(good.replace('at: 1h', 'at: 3h')))).toThrow(/setup\.timeline\.slow: it begins after the day ends/);
  expect(() => parseLab('x.yaml', lab(good.replace('at: 1h', 'at: soon')))).toThrow(/at: a duration, e\.g\. 90s/);
  expect(() => parseLab('x.yaml', lab(good, 'fast'))).toThrow(/checks: since "fast" is not a failure of the exam day/);
  expect(() => parseLab('x.yaml', lab(good.replace('target: service-c', 'target: $who')))).toThrow(/setup\.timeline\.slow: \$who is not a setup choice/);
});
