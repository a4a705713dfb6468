import { defineStage } from 'sluice';
export default defineStage({ process: (batch) => batch });
