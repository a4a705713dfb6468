/** CPU-bound: sha256 hex of a string column, per row. */
import { hash } from 'node:crypto';
import { roundsStage } from './rounds';

export default roundsStage((h) => hash('sha256', h, 'hex'));
