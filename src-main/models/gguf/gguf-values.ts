import { GgufValueType } from "./gguf-types.js";

type NumberValueType =
  | GgufValueType.UINT8
  | GgufValueType.INT8
  | GgufValueType.UINT16
  | GgufValueType.INT16
  | GgufValueType.UINT32
  | GgufValueType.INT32
  | GgufValueType.FLOAT32
  | GgufValueType.FLOAT64;
type BigIntValueType = GgufValueType.UINT64 | GgufValueType.INT64;

export type GgufScalarValueType = Exclude<GgufValueType, GgufValueType.ARRAY>;
export type GgufScalar = number | bigint | boolean | string;

/** A metadata value with the GGUF type it is written as (JS numbers alone cannot say u32 vs f32). */
export type GgufTypedValue =
  | { readonly type: NumberValueType; readonly value: number }
  | { readonly type: BigIntValueType; readonly value: bigint }
  | { readonly type: GgufValueType.BOOL; readonly value: boolean }
  | { readonly type: GgufValueType.STRING; readonly value: string }
  | { readonly type: GgufValueType.ARRAY; readonly itemType: GgufScalarValueType; readonly value: readonly GgufScalar[] };

/** What the reader returns: plain JS values (64-bit integers as bigint). llama.cpp has no nested arrays. */
export type GgufValue = GgufScalar | readonly GgufScalar[];

export const ggufValue = {
  u8: (value: number) => ({ type: GgufValueType.UINT8, value }) as const,
  i8: (value: number) => ({ type: GgufValueType.INT8, value }) as const,
  u16: (value: number) => ({ type: GgufValueType.UINT16, value }) as const,
  i16: (value: number) => ({ type: GgufValueType.INT16, value }) as const,
  u32: (value: number) => ({ type: GgufValueType.UINT32, value }) as const,
  i32: (value: number) => ({ type: GgufValueType.INT32, value }) as const,
  f32: (value: number) => ({ type: GgufValueType.FLOAT32, value }) as const,
  f64: (value: number) => ({ type: GgufValueType.FLOAT64, value }) as const,
  u64: (value: bigint) => ({ type: GgufValueType.UINT64, value }) as const,
  i64: (value: bigint) => ({ type: GgufValueType.INT64, value }) as const,
  bool: (value: boolean) => ({ type: GgufValueType.BOOL, value }) as const,
  string: (value: string) => ({ type: GgufValueType.STRING, value }) as const,
  array: (itemType: GgufScalarValueType, value: readonly GgufScalar[]): GgufTypedValue => ({
    type: GgufValueType.ARRAY,
    itemType,
    value,
  }),
} satisfies Record<string, (...args: never[]) => GgufTypedValue>;
