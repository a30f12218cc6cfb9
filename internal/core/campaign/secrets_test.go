package campaign

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSecretLike(t *testing.T) {
	for _, name := range []string{"API_KEY", "api_key", "x_token", "DB_PASSWORD", "passwd", "AWS_SECRET_ACCESS_KEY", "GCP_CREDENTIALS",
		"BasicAuth", "AUTH_HEADER", "cookie", "SESSION_ID", "PRIVATE_PEM", "REQUEST_SIGNATURE"} {
		_, ok := SecretLike(name)
		assert.True(t, ok, name)
	}
	for _, name := range []string{"ENDPOINT", "SITE", "BATCH_SIZE", "PLANT_ID", "REGION"} {
		_, ok := SecretLike(name)
		assert.False(t, ok, name)
	}
}

func TestParseSecretEnv(t *testing.T) {
	sp, err := ParseSecretEnv("API_KEY")
	require.NoError(t, err)
	assert.Equal(t, SecretSpec{Name: "API_KEY"}, sp)
	sp, err = ParseSecretEnv("API_KEY=@/run/secrets/key")
	require.NoError(t, err)
	assert.Equal(t, SecretSpec{Name: "API_KEY", File: "/run/secrets/key"}, sp)

	_, err = ParseSecretEnv("API_KEY=s3cr3t-on-the-command-line")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "never comes from the command line")
	assert.NotContains(t, err.Error(), "s3cr3t", "the refused value is not echoed")
	for _, bad := range []string{"", "1ABC", "A-B", "A B=@f", "X=@"} {
		_, err := ParseSecretEnv(bad)
		assert.Error(t, err, bad)
	}
}

func TestValidateSecretEnv(t *testing.T) {
	c := Defaults()
	c.Target = EmbeddedTarget
	c.Env = map[string]string{"SITE": "a", "PLANT_API_KEY": "k"}
	c.SecretEnv = []string{"X_TOKEN", "X_TOKEN", "BASE_URL", "SITE", "Y=@f"}
	err := c.Validate()
	require.Error(t, err)
	for _, want := range []string{
		"env PLANT_API_KEY: the name looks like a secret (KEY)", "--secret-env PLANT_API_KEY",
		"--secret-env X_TOKEN: given twice", "--secret-env BASE_URL: every step sets it itself", "--secret-env SITE: also given with --env",
	} {
		assert.Contains(t, err.Error(), want)
	}
	assert.NotContains(t, err.Error(), "--secret-env Y", "NAME=@FILE is fine")
	assert.NotContains(t, err.Error(), "\n  6.", "SITE is not secret-like, Y=@f is fine")
}
