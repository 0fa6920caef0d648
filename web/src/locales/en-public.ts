// English texts for the public family and community dashboard.

export const enPublic = {};
