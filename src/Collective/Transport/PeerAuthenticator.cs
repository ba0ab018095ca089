using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Plateau.Protos.Collective.V1;

namespace Plateau.Collective.Transport;

/// <summary>
/// HMAC-SHA256 proofs that a stream's opener (Hello) and acceptor (Welcome) hold the job's secret.
/// The MAC binds job, generation, both ranks, the stream index, a timestamp and a random nonce, so a
/// captured Hello cannot be replayed to another rank, generation or (after the skew window) at all.
/// </summary>
internal static class PeerAuthenticator
{
    private const string Domain = "plateau-collective-v1";
    public const int NonceBytes = 16;

    public static Hello CreateHello(RingOptions options, int targetRank, int streamIndex, DateTimeOffset now)
    {
        var nonce = RandomNumberGenerator.GetBytes(NonceBytes);
        var hello = new Hello
        {
            JobId = options.JobId,
            Generation = options.Generation,
            Rank = options.Rank,
            TargetRank = targetRank,
            StreamIndex = streamIndex,
            WorldSize = options.WorldSize,
            TimestampUnixMs = now.ToUnixTimeMilliseconds(),
            Nonce = Google.Protobuf.ByteString.CopyFrom(nonce),
            DataTransport = (int)options.Transport,
        };
        hello.Mac = Google.Protobuf.ByteString.CopyFrom(HelloMac(options.Secret, hello));
        return hello;
    }

    public static byte[] HelloMac(byte[] secret, Hello hello)
    {
        var text = string.Join('|', Domain, "hello", hello.JobId,
            hello.Generation.ToString(CultureInfo.InvariantCulture),
            hello.Rank.ToString(CultureInfo.InvariantCulture),
            hello.TargetRank.ToString(CultureInfo.InvariantCulture),
            hello.StreamIndex.ToString(CultureInfo.InvariantCulture),
            hello.WorldSize.ToString(CultureInfo.InvariantCulture),
            hello.TimestampUnixMs.ToString(CultureInfo.InvariantCulture),
            Convert.ToHexString(hello.Nonce.Span));
        return HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes(text));
    }

    public static bool HelloIsAuthentic(byte[] secret, Hello hello) =>
        hello.Mac.Length == 32 && CryptographicOperations.FixedTimeEquals(HelloMac(secret, hello), hello.Mac.Span);

    public static Welcome CreateWelcome(byte[] secret, string jobId, long generation, int rank, Hello hello, int dataPort = 0, byte[]? dataToken = null) => new()
    {
        Rank = rank,
        Mac = Google.Protobuf.ByteString.CopyFrom(WelcomeMac(secret, jobId, generation, rank, hello, dataPort, dataToken ?? [])),
        DataPort = dataPort,
        DataToken = Google.Protobuf.ByteString.CopyFrom(dataToken ?? []),
    };

    public static bool WelcomeIsAuthentic(byte[] secret, string jobId, long generation, int rank, Hello hello, Welcome welcome) =>
        welcome.Rank == rank && welcome.Mac.Length == 32 &&
        (welcome.DataPort == 0 || welcome.DataToken.Length == DataTokenBytes) &&
        CryptographicOperations.FixedTimeEquals(WelcomeMac(secret, jobId, generation, rank, hello, welcome.DataPort, welcome.DataToken.ToByteArray()), welcome.Mac.Span);

    private static byte[] WelcomeMac(byte[] secret, string jobId, long generation, int rank, Hello hello, int dataPort, byte[] dataToken)
    {
        var text = string.Join('|', Domain, "welcome", jobId,
            generation.ToString(CultureInfo.InvariantCulture),
            rank.ToString(CultureInfo.InvariantCulture),
            Convert.ToHexString(hello.Nonce.Span));
        if (dataPort != 0)
        {
            text += "|data|" + dataPort.ToString(CultureInfo.InvariantCulture) + "|" + Convert.ToHexString(dataToken);
        }
        return HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes(text));
    }

    /// <summary>Bytes of a data-socket token.</summary>
    public const int DataTokenBytes = 32;

    /// <summary>Proof, sent on a new data socket with its token, that the connecting rank holds the secret.</summary>
    public static byte[] DataSocketMac(byte[] secret, string jobId, long generation, int callerRank, int streamIndex, ReadOnlySpan<byte> token)
    {
        var text = string.Join('|', Domain, "data", jobId,
            generation.ToString(CultureInfo.InvariantCulture),
            callerRank.ToString(CultureInfo.InvariantCulture),
            streamIndex.ToString(CultureInfo.InvariantCulture),
            Convert.ToHexString(token));
        return HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes(text));
    }
}
