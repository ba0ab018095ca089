using Microsoft.Extensions.Options;

namespace Plateau.Coordinator.Security;

public sealed class ApiAuthOptionsValidator : IValidateOptions<ApiAuthOptions>
{
    public ValidateOptionsResult Validate(string? name, ApiAuthOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        const string Section = ApiAuthOptions.SectionName;
        var errors = new List<string>();
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        if (options.Tokens.Count == 0 && !options.Jwt.IsConfigured)
        {
            errors.Add($"{Section} needs Tokens or Jwt:SigningKey: authentication is on and nothing could pass it " +
                $"(set {Section}:Tokens:0, or {Section}:Enabled=false to serve the API without authentication)");
        }

        for (var i = 0; i < options.Tokens.Count; i++)
        {
            if ((options.Tokens[i]?.Length ?? 0) < ApiAuthOptions.MinTokenChars)
            {
                errors.Add($"{Section}:Tokens:{i} must be at least {ApiAuthOptions.MinTokenChars} characters, got {options.Tokens[i]?.Length ?? 0}");
            }
        }

        if (options.Jwt.IsConfigured)
        {
            var key = TryBase64(options.Jwt.SigningKey!);
            if (key is null || key.Length < ApiJwtOptions.MinKeyBytes)
            {
                errors.Add($"{Section}:Jwt:SigningKey must be base64 of at least {ApiJwtOptions.MinKeyBytes} bytes, got {(key is null ? "text that is not base64" : $"{key.Length} bytes")}");
            }

            if (string.IsNullOrWhiteSpace(options.Jwt.Issuer))
            {
                errors.Add($"{Section}:Jwt:Issuer is required when Jwt:SigningKey is set");
            }

            if (string.IsNullOrWhiteSpace(options.Jwt.Audience))
            {
                errors.Add($"{Section}:Jwt:Audience is required when Jwt:SigningKey is set");
            }

            if (!(options.Jwt.ClockSkewSeconds is >= 0 and <= 600))
            {
                errors.Add($"{Section}:Jwt:ClockSkewSeconds must be between 0 and 600, got {options.Jwt.ClockSkewSeconds}");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    internal static byte[]? TryBase64(string text)
    {
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out var written) ? buffer[..written] : null;
    }
}
