using System.Security.Cryptography;
using System.Text;

namespace Plateau.Contracts.Checkpoints;

/// <summary>Proves a checkpoint transfer comes from a member of the generation: HMAC-SHA256 keyed with
/// the generation's collective secret over "job/generation/checkpoint".</summary>
public static class CheckpointAccessToken
{
    public static string Compute(byte[] collectiveSecret, string jobId, long generation, string checkpointId)
    {
        ArgumentNullException.ThrowIfNull(collectiveSecret);
        var message = Encoding.UTF8.GetBytes($"{jobId}/{generation}/{checkpointId}");
        return Convert.ToHexStringLower(HMACSHA256.HashData(collectiveSecret, message));
    }

    public static bool Matches(byte[] collectiveSecret, string jobId, long generation, string checkpointId, string token)
    {
        var expected = Encoding.ASCII.GetBytes(Compute(collectiveSecret, jobId, generation, checkpointId));
        var actual = Encoding.ASCII.GetBytes(token ?? "");
        return CryptographicOperations.FixedTimeEquals(expected, actual);
    }
}
