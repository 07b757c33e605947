// Package crm holds the CRM export adapters: Salesforce, HubSpot, Pipedrive,
// Zoho CRM, the Maven "CRM Sales Opportunities" sample, the Olist marketing
// funnel and a YAML mapping file for any other export. Each is an
// ingest.Format that recognises its files by their header and maps their
// rows to canonical records; ingest validates and loads them. Files an
// export needs only to enrich others (Salesforce users and currency rates,
// Maven products and teams, Olist closed deals) are lookup tables, read
// first. The package knows exports; it never computes a metric.
//
// docs/adapters.md describes each format's column and stage mapping.
package crm
