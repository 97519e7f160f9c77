/** The collections bench/pipeline.ts samples a document of mid-run, for the DB ceiling to write their like. */
export const SAMPLED = ['declarations', 'declaration_orders', 'declaration_feed', 'declaration_manifests'];
