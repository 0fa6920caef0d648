// English texts for comparing cycles, the district view and coaching feedback.

export const enInsight = {};
