import fc from 'fast-check';

/**
 * The property-based fuzz runs on a fixed seed, so that a CI run is repeatable and a red one can be
 * replayed: the same documents every time. FUZZ_SEED=<n> runs another seed; FUZZ_SEED=random
 * explores (what fast-check prints on a failure, seed and path, replays it). Found counterexamples
 * become table tests.
 */
const env = process.env.FUZZ_SEED;
if (env !== 'random') fc.configureGlobal({ seed: env ? Number(env) : 20_261_202 });
