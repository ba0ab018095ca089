using System.Security.Cryptography;
using System.Text;
using Plateau.Contracts.Specs;

namespace Plateau.Coordinator.Jobs;

/// <summary>
/// What makes two SubmitJob calls "the same": the spec as parsed (so YAML and JSON, comments and key
/// order do not matter) and the job id asked for (empty when the coordinator picks one).
/// </summary>
public static class SubmissionFingerprint
{
    public static string Of(JobSpec spec, string? requestedJobId)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var text = (requestedJobId ?? "") + "\n" + JobSpecJson.Serialize(spec);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }
}
