// Swagger UI for /docs, from files shipped with vnsearch: nothing is fetched from
// outside the machine (validatorUrl: null turns off the badge that asks a public
// validator), and a file script rather than an inline one keeps the CSP strict.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
