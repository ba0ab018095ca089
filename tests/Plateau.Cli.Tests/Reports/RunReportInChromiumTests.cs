using System.Diagnostics;
using System.Text.RegularExpressions;
using Plateau.Cli.Reports;
using SkiaSharp;

namespace Plateau.Cli.Tests.Reports;

/// <summary>
/// The report in a real browser (Debian's headless Chromium, installed by scripts/install-test-deps.sh):
/// the DOM Chromium builds holds the charts' paths and the LR-drop annotation, and the screenshot has
/// the series and annotation colours painted.
/// </summary>
public sealed partial class RunReportInChromiumTests : IDisposable
{
    private const string Chromium = "/usr/bin/chromium";
    private readonly string _folder = Directory.CreateTempSubdirectory("plateau-report-").FullName;

    [Fact]
    [Trait("Category", "Slow")]
    public async Task ChromiumRendersTheChartsAndTheLearningRateDropAnnotation()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run scripts/install-test-deps.sh");
        var page = Path.Combine(_folder, "report.html");
        await File.WriteAllTextAsync(page, RunReport.Render(ReportFixtures.Job(), ReportFixtures.Events()));
        var url = new Uri(page).AbsoluteUri;

        var dom = await RunChromium("--dump-dom", url);
        var paths = RenderedPath().Matches(dom).Select(m => m.Groups["d"].Value).ToList();
        Assert.Equal(9, paths.Count);
        Assert.All(paths, d => Assert.Matches(@"^M[\d.]+,[\d.]+( L[\d.]+,[\d.]+){3}$", d));
        Assert.Contains("plateau: lr 0.1 → 0.01", dom, StringComparison.Ordinal);

        var screenshot = Path.Combine(_folder, "report.png");
        await RunChromium($"--screenshot={screenshot}", "--window-size=1600,1400", url);
        using var bitmap = SKBitmap.Decode(screenshot);
        Assert.NotNull(bitmap);
        Assert.True(Pixels(bitmap, 0xd6, 0x27, 0x28) > 200, "no val-loss red (#d62728) painted");
        Assert.True(Pixels(bitmap, 0x1f, 0x77, 0xb4) > 200, "no train-loss blue (#1f77b4) painted");
        Assert.True(Pixels(bitmap, 0xbb, 0x00, 0x00) > 20, "no LR-annotation red (#b00) painted");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<string> RunChromium(params string[] arguments)
    {
        var start = new ProcessStartInfo(Chromium) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", $"--user-data-dir={Path.Combine(_folder, "profile")}" }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var output = await stdout;
        Assert.True(process.ExitCode == 0, $"chromium exited {process.ExitCode}: {await stderr}");
        return output;
    }

    /// <summary>Pixels within a small distance of a colour (anti-aliasing blends edges).</summary>
    private static int Pixels(SKBitmap bitmap, byte r, byte g, byte b)
    {
        var count = 0;
        foreach (var pixel in bitmap.Pixels)
        {
            if (Math.Abs(pixel.Red - r) + Math.Abs(pixel.Green - g) + Math.Abs(pixel.Blue - b) < 30)
            {
                count++;
            }
        }

        return count;
    }

    [GeneratedRegex("<path class=\"series\" data-series=\"[^\"]*\" d=\"(?<d>[^\"]+)\"")]
    private static partial Regex RenderedPath();
}
