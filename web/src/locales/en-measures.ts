// English texts for measures, charts and data entry.

export const enMeasures = {};
