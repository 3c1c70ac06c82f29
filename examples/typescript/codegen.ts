import type { CodegenConfig } from "@graphql-codegen/cli";

// Types for the operations in src/operations.graphql, from the committed SDL.
const config: CodegenConfig = {
  schema: "../../openapi/schema.graphql",
  documents: "src/operations.graphql",
  generates: {
    "src/generated/graphql.ts": {
      plugins: ["typescript", "typescript-operations"],
      config: {
        strictScalars: true,
        scalars: { DateTime: "string", JSON: "unknown" },
        enumsAsTypes: true,
        avoidOptionals: { field: true, inputValue: false, object: true },
      },
    },
  },
};
export default config;
