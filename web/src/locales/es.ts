// Spanish: not translated yet. Fill in keys from en.ts; missing ones show in English. The
// app offers a language only once it is complete (see `SHIPPED` in i18n.ts).

import type { Messages } from "./en";

export const es: Partial<Messages> = {};
