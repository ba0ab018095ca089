using System.Collections.Concurrent;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Plateau.Collective.Transport;
using Plateau.Collective.Transport.Sockets;
using Plateau.Protos.Collective.V1;

namespace Plateau.Collective.Hosting;

/// <summary>
/// The server half of a rank's collective endpoint: knows which group (job, generation, rank) this
/// process currently serves and admits only calls from that group's right ring neighbour (which receives this rank's data) that prove
/// the job secret. One per process; groups of successive generations register here in turn.
/// </summary>
public sealed class CollectivePeerRegistry : IDisposable
{
    private readonly Lock _listenerLock = new();
    private DataSocketListener? _dataListener;
    private readonly ConcurrentDictionary<string, CollectiveGroup> _groups = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _seenNonces = new(StringComparer.Ordinal);
    private readonly ILogger _logger;

    public CollectivePeerRegistry(CollectiveServerOptions options, ILogger<CollectivePeerRegistry>? logger = null)
    {
        Options = options ?? throw new ArgumentNullException(nameof(options));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public CollectiveServerOptions Options { get; }

    /// <summary>Address peers use to reach this endpoint (set by the host once it is bound).</summary>
    public string? Address { get; internal set; }

    /// <summary>Whether the endpoint serves TLS.</summary>
    public bool UsesTls { get; internal set; }

    internal void Register(CollectiveGroup group)
    {
        _groups.AddOrUpdate(group.JobId, group, (_, existing) =>
            existing.Generation > group.Generation && !existing.IsDisposed
                ? throw new CollectiveException($"job {group.JobId}: this endpoint already serves generation {existing.Generation}; cannot join older generation {group.Generation}", group.Rank, Address)
                : group);
    }

    internal void Unregister(CollectiveGroup group) =>
        _groups.TryRemove(new KeyValuePair<string, CollectiveGroup>(group.JobId, group));

    internal async Task ExchangeAsync(IAsyncStreamReader<WireFrame> requests, IServerStreamWriter<WireFrame> responses, ServerCallContext context)
    {
        var remote = context.Peer ?? "?";
        Hello hello;
        using (var helloTimeout = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken))
        {
            helloTimeout.CancelAfter(Options.HelloTimeout);
            bool any;
            try
            {
                any = await requests.MoveNext(helloTimeout.Token);
            }
            catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
            {
                throw Refuse(StatusCode.DeadlineExceeded, $"no Hello within {Options.HelloTimeout.TotalSeconds:0.#} s", remote, null);
            }
            if (!any || requests.Current.Control?.Hello is not { } first)
            {
                throw Refuse(StatusCode.InvalidArgument, "the first frame of an Exchange stream must be a Hello", remote, null);
            }
            hello = first;
        }

        var group = Admit(hello, remote);
        // Raw data socket only when both ends ask for it and the stream is not TLS (the socket is
        // plaintext; with TLS the data stays on this encrypted stream).
        PendingDataSocket? data = null;
        if (hello.DataTransport == (int)DataTransport.Socket && group.Transport == DataTransport.Socket && !context.GetHttpContext().Request.IsHttps)
        {
            data = DataListener().Expect(group, hello.Rank, hello.StreamIndex);
        }
        try
        {
            await responses.WriteAsync(WireFrame.ForControl(new PeerFrame { Welcome = PeerAuthenticator.CreateWelcome(group.Secret, group.JobId, group.Generation, group.Rank, hello, data?.Port ?? 0, data?.Token) }));
            await group.ServeIncomingAsync(hello.StreamIndex, requests, responses, context, remote, data, Options.HelloTimeout);
        }
        finally
        {
            data?.Withdraw();
        }
    }

    internal DataSocketListener DataListener()
    {
        lock (_listenerLock)
        {
            return _dataListener ??= DataSocketListener.Start(Options, _logger);
        }
    }

    /// <summary>Closes the data-socket listener (open data connections belong to their groups).</summary>
    public void Dispose()
    {
        lock (_listenerLock)
        {
            _dataListener?.Dispose();
            _dataListener = null;
        }
    }

    private CollectiveGroup Admit(Hello hello, string remote)
    {
        if (string.IsNullOrEmpty(hello.JobId))
        {
            throw Refuse(StatusCode.InvalidArgument, "Hello.job_id is empty", remote, hello);
        }
        if (!_groups.TryGetValue(hello.JobId, out var group) || group.IsDisposed)
        {
            // Either a stranger's job or a group that has not joined yet; the latter retries. The group may
            // have joined between the lookup and this read (or be replacing a disposed one): that is "not yet" too.
            var serving = _groups.Keys.ToArray();
            throw serving.Length == 0 || serving.Contains(hello.JobId, StringComparer.Ordinal)
                ? Refuse(StatusCode.Unavailable, $"no group has joined on this endpoint yet (job {hello.JobId})", remote, hello)
                : Refuse(StatusCode.PermissionDenied, $"job '{hello.JobId}' is not served here (serving: {string.Join(", ", serving)})", remote, hello);
        }
        // Authenticate before telling the caller anything about generations or ranks.
        if (!PeerAuthenticator.HelloIsAuthentic(group.Secret, hello))
        {
            throw Refuse(StatusCode.Unauthenticated, "Hello.mac does not verify with this job's secret", remote, hello);
        }
        var age = DateTimeOffset.UtcNow - DateTimeOffset.FromUnixTimeMilliseconds(hello.TimestampUnixMs);
        if (age.Duration() > Options.MaxClockSkew)
        {
            throw Refuse(StatusCode.Unauthenticated, $"Hello.timestamp_unix_ms is {age.TotalSeconds:0} s off this clock (limit {Options.MaxClockSkew.TotalSeconds:0} s)", remote, hello);
        }
        if (!RememberNonce(hello))
        {
            throw Refuse(StatusCode.Unauthenticated, "Hello.nonce was already used (replay)", remote, hello);
        }
        if (hello.Generation < group.Generation)
        {
            throw Refuse(StatusCode.FailedPrecondition, $"stale generation {hello.Generation}; the group is at generation {group.Generation}", remote, hello);
        }
        if (hello.Generation > group.Generation)
        {
            throw Refuse(StatusCode.Unavailable, $"generation {hello.Generation} not joined here yet (still at {group.Generation})", remote, hello);
        }
        if (hello.WorldSize != group.WorldSize)
        {
            throw Refuse(StatusCode.FailedPrecondition, $"Hello.world_size {hello.WorldSize} differs from this group's {group.WorldSize}", remote, hello);
        }
        if (hello.TargetRank != group.Rank)
        {
            throw Refuse(StatusCode.PermissionDenied, $"Hello.target_rank {hello.TargetRank} but this endpoint is rank {group.Rank}", remote, hello);
        }
        if (hello.Rank != group.RightRank)
        {
            throw Refuse(StatusCode.PermissionDenied, $"Hello.rank {hello.Rank} is not this rank's right ring neighbour ({group.RightRank})", remote, hello);
        }
        if (hello.StreamIndex < 0 || hello.StreamIndex >= group.StreamsPerPeer)
        {
            throw Refuse(StatusCode.InvalidArgument, $"Hello.stream_index {hello.StreamIndex} outside [0, {group.StreamsPerPeer})", remote, hello);
        }
        return group;
    }

    private bool RememberNonce(Hello hello)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        if (_seenNonces.Count > 4096)
        {
            var horizon = now - (long)(2 * Options.MaxClockSkew.TotalMilliseconds);
            foreach (var (key, seen) in _seenNonces)
            {
                if (seen < horizon)
                {
                    _seenNonces.TryRemove(key, out _);
                }
            }
        }
        return _seenNonces.TryAdd(Convert.ToHexString(hello.Nonce.Span), now);
    }

    private RpcException Refuse(StatusCode code, string reason, string remote, Hello? hello)
    {
        if (code != StatusCode.Unavailable)
        {
            CollectiveLog.Refused(_logger, remote, hello?.JobId ?? "?", hello?.Generation ?? -1, hello?.Rank ?? -1, code.ToString(), reason);
        }
        return new RpcException(new Status(code, reason));
    }
}
