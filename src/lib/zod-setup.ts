import { z } from "zod";

// Messages a user reads in 422 `errors`: short and specific.
z.config({
  customError: (issue) => {
    if (issue.code === "invalid_type" && issue.input === undefined) return "Is required";
    if (issue.code === "unrecognized_keys")
      return `Unknown field${issue.keys.length > 1 ? "s" : ""}: ${issue.keys.join(", ")}`;
    return undefined;
  },
});
