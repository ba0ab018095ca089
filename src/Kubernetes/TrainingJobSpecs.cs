using System.Text.Json.Nodes;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Specs;

namespace Plateau.Kubernetes;

/// <summary>A TrainingJob's spec as plateau/v1 JobSpec text: the spec fields plus apiVersion and name.</summary>
public static class TrainingJobSpecs
{
    /// <summary>The JSON text the coordinator's submission path reads (the same text the CLI sends).</summary>
    public static string ToSpecText(TrainingJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var spec = job.Spec?.DeepClone().AsObject() ?? [];
        foreach (var reserved in new[] { "apiVersion", "name" })
        {
            if (spec.ContainsKey(reserved))
            {
                throw new JobSpecInvalidException([new SpecError($"spec.{reserved}", reserved == "name"
                    ? "is not set in a TrainingJob: metadata.name is the job's name and id"
                    : "is not set in a TrainingJob: the object's apiVersion is plateau.dev/v1")]);
            }
        }

        var text = new JsonObject { ["apiVersion"] = JobSpec.CurrentApiVersion, ["name"] = job.Metadata.Name };
        foreach (var (key, value) in spec.ToList())
        {
            spec.Remove(key);
            text[key] = value;
        }

        return text.ToJsonString();
    }
}
