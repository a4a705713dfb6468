/** Types of layers.cjs, for the TypeScript test that reads it. */
export declare const ALLOWED: Record<string, string[]>;
export declare const INNER: { target: string; from: string[]; why: string }[];
export declare const PACKAGES: { names: string[]; only: string; why: string }[];
