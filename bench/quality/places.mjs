// Places of the simulated world: office cities, travel routes, time zones. Coordinates are city centres;
// what a session's address geolocates to is always the real database's answer for the real address.

export function distanceKm(lat1, lon1, lat2, lon2) {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371.0088 * Math.asin(Math.min(1, Math.sqrt(a)));
}

export const CITIES = {
  chicago: { name: 'Chicago', country: 'US', lat: 41.88, lon: -87.63 },
  newyork: { name: 'New York', country: 'US', lat: 40.71, lon: -74.01 },
  sanfrancisco: { name: 'San Francisco', country: 'US', lat: 37.77, lon: -122.42 },
  washington: { name: 'Washington', country: 'US', lat: 38.9, lon: -77.04 },
  boston: { name: 'Boston', country: 'US', lat: 42.36, lon: -71.06 },
  toronto: { name: 'Toronto', country: 'CA', lat: 43.65, lon: -79.38 },
  montreal: { name: 'Montreal', country: 'CA', lat: 45.5, lon: -73.57 },
  london: { name: 'London', country: 'GB', lat: 51.51, lon: -0.13 },
  manchester: { name: 'Manchester', country: 'GB', lat: 53.48, lon: -2.24 },
  edinburgh: { name: 'Edinburgh', country: 'GB', lat: 55.95, lon: -3.19 },
  frankfurt: { name: 'Frankfurt', country: 'DE', lat: 50.11, lon: 8.68 },
  munich: { name: 'Munich', country: 'DE', lat: 48.14, lon: 11.58 },
  berlin: { name: 'Berlin', country: 'DE', lat: 52.52, lon: 13.4 },
  paris: { name: 'Paris', country: 'FR', lat: 48.86, lon: 2.35 },
  lyon: { name: 'Lyon', country: 'FR', lat: 45.76, lon: 4.84 },
  sydney: { name: 'Sydney', country: 'AU', lat: -33.87, lon: 151.21 },
  melbourne: { name: 'Melbourne', country: 'AU', lat: -37.81, lon: 144.96 },
  tokyo: { name: 'Tokyo', country: 'JP', lat: 35.68, lon: 139.69 },
  osaka: { name: 'Osaka', country: 'JP', lat: 34.69, lon: 135.5 },
};

/** Standard-time UTC offsets in hours (the simulated weeks are in October/November; close enough). */
export const UTC_OFFSET = { US: -6, CA: -5, GB: 0, DE: 1, FR: 1, AU: 10, JP: 9 };

/** Offices of the two simulated tenants; every user works from one. */
export const OFFICES = {
  acme: ['chicago', 'newyork', 'toronto', 'london', 'frankfurt', 'paris', 'sydney', 'tokyo'],
  globex: ['sanfrancisco', 'boston', 'montreal', 'manchester', 'munich', 'lyon', 'melbourne', 'osaka'],
};

/** Where each tenant's corporate VPN concentrators are: users use their region's gateway. */
export const VPN_GATEWAYS = {
  acme: { americas: 'chicago', europe: 'frankfurt', apac: 'tokyo' },
  globex: { americas: 'sanfrancisco', europe: 'munich', apac: 'melbourne' },
};

export const REGION = { US: 'americas', CA: 'americas', GB: 'europe', DE: 'europe', FR: 'europe', AU: 'apac', JP: 'apac' };

/**
 * Train routes (city, city, hours door to door on the train). Long-distance rail tops out near 300 km/h,
 * so a session crossing a country by train never looks like flight.
 */
export const TRAIN_ROUTES = [
  ['paris', 'london', 2.4],
  ['frankfurt', 'berlin', 4.0],
  ['munich', 'berlin', 4.2],
  ['frankfurt', 'munich', 3.3],
  ['london', 'manchester', 2.2],
  ['london', 'edinburgh', 4.5],
  ['paris', 'lyon', 2.0],
  ['tokyo', 'osaka', 2.5],
  ['newyork', 'washington', 3.0],
  ['newyork', 'boston', 3.8],
  ['toronto', 'montreal', 5.0],
  ['sydney', 'melbourne', 11.0],
  ['paris', 'frankfurt', 3.8],
];

/** Plane speed used to schedule flights: block speed well under 900 km/h, plus fixed airport time. */
export const FLIGHT_BLOCK_KMH = 780;
export const FLIGHT_TAXI_HOURS = 0.6;
