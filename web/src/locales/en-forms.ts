// English texts for the inquiry forms: empathy interviews, root-cause analyses, equity audits, improvement plans.

export const enForms = {};
