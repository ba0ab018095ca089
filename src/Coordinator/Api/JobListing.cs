using System.Globalization;
using System.Text;
using Plateau.Contracts.Jobs;

namespace Plateau.Coordinator.Api;

/// <summary>
/// ListJobs' pages. The catalog only grows, so a job's position in submission order (0 = first) never
/// changes; a page token is the position to continue below, newest first, and stays valid while jobs are
/// added. A phase filter needs each job's summary, so one page looks at no more than
/// <see cref="ScanFactor"/> × limit jobs and hands back a token for the rest.
/// </summary>
public static class JobListing
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;
    public const int ScanFactor = 4;
    private const string TokenPrefix = "p1:";

    /// <param name="newestFirst">The catalog's ids, newest first.</param>
    /// <param name="summary">Reads one job (null: it vanished).</param>
    public static async Task<JobListPage> ReadAsync(IReadOnlyList<string> newestFirst, int limit, IReadOnlySet<JobPhase> phases, string pageToken, Func<string, Task<JobSummary?>> summary)
    {
        ArgumentNullException.ThrowIfNull(newestFirst);
        ArgumentNullException.ThrowIfNull(phases);
        ArgumentNullException.ThrowIfNull(summary);
        limit = limit == 0 ? DefaultLimit : limit;
        // Index into newestFirst where this page starts: position p sits at index Count-1-p.
        var start = 0;
        if (!string.IsNullOrEmpty(pageToken))
        {
            var below = DecodeBelow(pageToken);
            if (below < 1 || below > newestFirst.Count)
            {
                throw Invalid(pageToken);
            }

            start = newestFirst.Count - below;
        }

        var scanEnd = phases.Count == 0 ? start + limit : start + (limit * ScanFactor);
        var jobs = new List<JobSummary>();
        var index = start;
        while (index < newestFirst.Count && index < scanEnd && jobs.Count < limit)
        {
            var batch = newestFirst.Skip(index).Take(Math.Min(limit - jobs.Count, scanEnd - index)).ToList();
            var read = await Task.WhenAll(batch.Select(summary));
            foreach (var job in read)
            {
                index++;
                if (job is not null && (phases.Count == 0 || phases.Contains(job.Phase)))
                {
                    jobs.Add(job);
                    if (jobs.Count == limit)
                    {
                        break;
                    }
                }
            }
        }

        var next = index < newestFirst.Count ? Encode(newestFirst.Count - index) : "";
        return new JobListPage(jobs, next);
    }

    /// <summary>The token meaning "positions below <paramref name="position"/>".</summary>
    public static string Encode(int position) =>
        Convert.ToBase64String(Encoding.ASCII.GetBytes(TokenPrefix + position.ToString(CultureInfo.InvariantCulture)));

    private static int DecodeBelow(string token)
    {
        string text;
        try
        {
            text = Encoding.ASCII.GetString(Convert.FromBase64String(token));
        }
        catch (FormatException)
        {
            throw Invalid(token);
        }

        if (!text.StartsWith(TokenPrefix, StringComparison.Ordinal)
            || !int.TryParse(text.AsSpan(TokenPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var position))
        {
            throw Invalid(token);
        }

        return position;
    }

    private static Grpc.Core.RpcException Invalid(string token) =>
        RpcErrors.InvalidArgument("page_token", $"{Contracts.Errors.Quote.Value(token)} is not a token from a previous ListJobs answer");
}
