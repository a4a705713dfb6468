import { definePipeline } from 'sluice';
export async function main(argv: string[]): Promise<number> {
  console.log('cli stub', argv, typeof definePipeline);
  return 0;
}
