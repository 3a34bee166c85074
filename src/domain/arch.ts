// The architectures Morphux builds for, as the builder, the store and the client name them.
export const ARCHES = ['x86_64', 'aarch64'] as const;
export type Arch = (typeof ARCHES)[number];
