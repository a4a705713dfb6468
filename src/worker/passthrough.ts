/** A stage that returns its input: used by `explain --profile` to time a bare hand-off. */
import { defineStage } from './api';

export default defineStage({ process: (batch) => batch });
